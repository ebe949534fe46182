//! `gfn phylo`: scoring the DS1 test vectors, simulate → score → splits, and clear errors.

use std::path::PathBuf;
use std::process::{Command, Output};

fn gfn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gfn")).args(args).output().expect("gfn runs")
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "gfn failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gfn-phylo-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn fails_with(args: &[&str], needles: &[&str]) {
    let out = gfn(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?} should fail; stderr: {err}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: error {err:?} does not mention {n:?}");
    }
}

const DS1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/phylo/DS1.fasta");

fn ds1_taxa() -> Vec<String> {
    let text = std::fs::read_to_string(DS1).expect("DS1.fasta");
    text.lines().filter_map(|l| l.strip_prefix('>')).map(|n| n.trim().to_string()).collect()
}

#[test]
fn scores_the_ds1_vectors() {
    let taxa = ds1_taxa();
    let mut cat = format!("({}:0.1,{}:0.1)", taxa[0], taxa[1]);
    for (i, t) in taxa.iter().enumerate().skip(2) {
        let l = if i == taxa.len() - 1 { 0.05 } else { 0.1 };
        cat = format!("({cat}:{l},{t}:{l})");
    }
    cat.push(';');
    let out = stdout(&gfn(&["phylo", "score", "--alignment", DS1, "--newick", &cat, "--json"]));
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    assert!((v["log_likelihood"].as_f64().unwrap() + 14_637.021_077).abs() < 1e-5, "{v}");
    assert!((v["log_branch_prior"].as_f64().unwrap() - 66.431_840).abs() < 1e-5, "{v}");
    assert!((v["log_topology_prior"].as_f64().unwrap() + 73.145_482).abs() < 1e-6, "{v}");
    // The PAUP* most-parsimonious tree, from a file, with FASTA-order numbers replaced by names.
    let paup = "(1,(((((2,((((3,(5,13)),19),((((6,17),21),8),(9,14))),23)),12),24),10),((4,((((11,(16,20)),18),27),15)),25)),((7,22),26));";
    let named: String = paup
        .split_inclusive(|c: char| !c.is_ascii_digit())
        .map(|part| {
            let digits = part.trim_end_matches(|c: char| !c.is_ascii_digit());
            match digits.parse::<usize>() {
                Ok(k) => format!("{}{}", taxa[k - 1], &part[digits.len()..]),
                Err(_) => part.to_string(),
            }
        })
        .collect();
    let file = temp("paup").join("paup.nwk");
    std::fs::write(&file, named).unwrap();
    let out = stdout(&gfn(&[
        "phylo",
        "score",
        "--alignment",
        DS1,
        "--newick",
        file.to_str().unwrap(),
        "--model",
        "parsimony",
    ]));
    assert_eq!(out.trim(), "tree 1: parsimony 4026");
}

#[test]
fn simulate_score_and_splits() {
    let dir = temp("sim");
    let (nex, tree) = (dir.join("sim.nex"), dir.join("true.nwk"));
    let out = stdout(&gfn(&[
        "phylo",
        "simulate",
        "--taxa",
        "8",
        "--sites",
        "300",
        "--seed",
        "4",
        "--out",
        nex.to_str().unwrap(),
        "--tree-out",
        tree.to_str().unwrap(),
    ]));
    assert_eq!(out.trim(), std::fs::read_to_string(&tree).unwrap().trim());
    let scored =
        stdout(&gfn(&["phylo", "score", "--alignment", nex.to_str().unwrap(), "--newick", tree.to_str().unwrap()]));
    assert!(scored.starts_with("tree 1: log-likelihood -"), "{scored}");
    let splits = stdout(&gfn(&[
        "phylo",
        "splits",
        "--trees",
        tree.to_str().unwrap(),
        "--compare",
        tree.to_str().unwrap(),
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(splits.trim()).expect("JSON");
    assert_eq!(v["splits"].as_array().unwrap().len(), 5); // n - 3 non-trivial splits
    assert_eq!(v["comparison"]["asdsf"].as_f64(), Some(0.0));
}

#[test]
fn errors_name_the_problem() {
    let dir = temp("errors");
    let bad = dir.join("bad.fasta");
    std::fs::write(&bad, ">a\nACGT\n>b\nACGT\n>c\nAC!T\n").unwrap();
    let bad_s = bad.to_str().unwrap();
    fails_with(&["phylo", "score", "--alignment", bad_s, "--newick", "(a,b,c);"], &["bad.fasta", "line 6", "'!'"]);
    fails_with(&["phylo", "score", "--alignment", DS1, "--newick", "(a,b,c);"], &["'a'", "not a taxon"]);
    fails_with(&["phylo", "score", "--alignment", DS1, "--newick", "no-such-file"], &["neither an existing file"]);
    fails_with(
        &["phylo", "score", "--alignment", "/nonexistent.fasta", "--newick", "(a,b,c);"],
        &["/nonexistent.fasta"],
    );
    fails_with(
        &["phylo", "simulate", "--taxa", "2", "--sites", "5", "--out", dir.join("x.nex").to_str().unwrap()],
        &["taxa"],
    );
    fails_with(&["phylo", "simulate", "--taxa", "5", "--sites", "5", "--out", "x.txt"], &[".nex"]);
    fails_with(&["phylo", "splits", "--trees", bad_s, "--burnin", "1.5"], &["burnin"]);
}

/// `gfn train phylo --anneal cascading`: with C = −200 the best tree is improbable at every
/// check, so T halves every 5 iterations (4 → 0.25 by iteration 20), is logged in the metrics and
/// the summary, and a resumed run continues from the saved temperature down to the floor 0.1
/// (0.125 at 25, 0.0625 at 30). The reported best parsimony score is the Fitch score of the
/// reported best tree.
#[test]
fn train_anneals_the_reward_temperature_and_reports_the_best_tree() {
    let dir = temp("anneal");
    let aln = dir.join("sim.fasta");
    stdout(&gfn(&["phylo", "simulate", "--taxa", "6", "--sites", "60", "--seed", "2", "--out", aln.to_str().unwrap()]));
    let (ckpt, metrics) = (dir.join("run.safetensors"), dir.join("m.jsonl"));
    let common = ["train", "phylo", "--alignment", aln.to_str().unwrap(), "--reward", "parsimony"];
    let mut first = common.to_vec();
    first.extend([
        "--reward-temperature",
        "4",
        "--reward-offset",
        "-200",
        "--anneal",
        "cascading",
        "--anneal-interval",
        "5",
        "--anneal-min-temperature",
        "0.1",
        "--iterations",
        "20",
        "--batch-size",
        "8",
        "--hidden",
        "16",
        "--eval",
        "mc",
        "--json",
    ]);
    first.extend(["--metrics-out", metrics.to_str().unwrap(), "--checkpoint", ckpt.to_str().unwrap()]);
    let out = stdout(&gfn(&first));
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).expect("JSON");
    assert_eq!(v["reward_temperature"], 0.25, "{v}");
    let lines = std::fs::read_to_string(&metrics).unwrap();
    let logged: Vec<f64> = lines
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["reward_temperature"].as_f64().unwrap())
        .collect();
    assert_eq!(logged.last(), Some(&0.25), "{lines}");
    let best = v["phylo"]["best_parsimony"].as_f64().expect("best parsimony reported");
    assert_eq!(v["best_log_reward"].as_f64().unwrap(), (-200.0 - best) / 0.25);
    let tree = v["phylo"]["best_tree"].as_str().expect("best tree");
    let scored = stdout(&gfn(&[
        "phylo",
        "score",
        "--alignment",
        aln.to_str().unwrap(),
        "--newick",
        tree,
        "--model",
        "parsimony",
        "--json",
    ]));
    let scored: serde_json::Value = serde_json::from_str(scored.trim()).expect("JSON");
    assert_eq!(scored["parsimony"].as_f64(), Some(best));

    let out = stdout(&gfn(&["train", "--resume", ckpt.to_str().unwrap(), "--iterations", "35", "--json"]));
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).expect("JSON");
    assert_eq!((v["iterations"].as_u64(), v["reward_temperature"].as_f64()), (Some(35), Some(0.0625)), "{v}");
    // `gfn eval` of the checkpoint (iteration 20) rebuilds the environment at its saved T = 0.25,
    // where exact evaluation is valid: log Z = log Σ_T exp((−200 − M(T)) / 0.25) < −800 (M ≥ 0),
    // whereas at the initial T = 4 it would be at least (−200 − 60 · 4) / 4 = −110 (M ≤ 4 · 60).
    let out = stdout(&gfn(&["eval", "--checkpoint", ckpt.to_str().unwrap(), "--eval", "exact", "--json"]));
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!((v["iteration"].as_u64(), v["eval"]["exact"].as_bool()), (Some(20), Some(true)), "{v}");
    assert!(v["eval"]["log_z_exact"].as_f64().unwrap() < -800.0, "{v}");

    let mut bad = common.to_vec();
    bad.extend(["--iterations", "1", "--anneal", "cascading"]);
    for (flag, value, needles) in [
        ("--anneal-threshold", "0", &["anneal.threshold", "0"][..]),
        ("--anneal-threshold", "NaN", &["anneal.threshold", "NaN"][..]),
        ("--anneal-min-temperature", "-1", &["anneal.min_temperature", "-1"][..]),
        ("--anneal-interval", "0", &["anneal.interval"][..]),
        ("--eval", "exact", &["--eval mc"][..]),
    ] {
        let mut args = bad.clone();
        args.extend([flag, value]);
        fails_with(&args, needles);
    }
    fails_with(&["train", "phylo", "--alignment", DS1, "--anneal", "linear"], &["linear"]);
    fails_with(&["train", "hypergrid", "--anneal", "cascading"], &["hypergrid", "reward temperature"]);
    fails_with(&["train", "--resume", ckpt.to_str().unwrap(), "--anneal", "none"], &["anneal"]);
}

/// `gfn train phylo --condition-temperatures`: the run stands at the lowest temperature, encodes
/// it, and `gfn sample` / `gfn eval --reward-temperature` move the checkpoint to another one of
/// the set; other temperatures, conflicting flags and environments without a temperature are
/// usage errors.
#[test]
fn temperature_conditioned_training_samples_and_evaluates_at_each_temperature() {
    let dir = temp("condition");
    let fasta = dir.join("five.fasta");
    let (fasta_s, ckpt) = (fasta.to_str().unwrap(), dir.join("c.safetensors"));
    let ckpt_s = ckpt.to_str().unwrap();
    stdout(&gfn(&["phylo", "simulate", "--taxa", "5", "--sites", "100", "--out", fasta_s]));
    let train = ["train", "phylo", "--alignment", fasta_s, "--condition-temperatures", "16,8,4", "--iterations", "30"];
    let out = stdout(&gfn(&[&train[..], &["--json", "--checkpoint", ckpt_s]].concat()));
    let summary: serde_json::Value = serde_json::from_str(out.lines().last().expect("a line")).expect("JSON");
    assert_eq!(summary["reward_temperature"], 4.0, "{summary}");
    assert_eq!(summary["env_config"]["config"]["temperature_feature"], true, "{summary}");
    let reports: Vec<serde_json::Value> = [None, Some("16")]
        .iter()
        .map(|t| {
            let mut args = vec!["eval", "--checkpoint", ckpt_s, "--json"];
            args.extend(t.iter().flat_map(|t| ["--reward-temperature", *t]));
            serde_json::from_str(stdout(&gfn(&args)).trim()).expect("JSON")
        })
        .collect();
    // The exact log Z of R^(1/16) differs from that of R^(1/4): the evaluation moved temperature.
    let log_z = |r: &serde_json::Value| r["eval"]["log_z_exact"].as_f64().expect("exact");
    assert!((log_z(&reports[0]) - log_z(&reports[1])).abs() > 1.0, "{reports:?}");
    let trees =
        stdout(&gfn(&["sample", "--checkpoint", ckpt_s, "--reward-temperature", "8", "-n", "4", "--format", "newick"]));
    assert_eq!(trees.lines().filter(|l| l.starts_with('(') && l.ends_with(';')).count(), 4, "{trees}");
    fails_with(&["sample", "--checkpoint", ckpt_s, "--reward-temperature", "3"], &["3", "conditioning temperatures"]);
    fails_with(&[&train[..], &["--reward-temperature", "2"]].concat(), &["--reward-temperature 2", "lowest (4)"]);
    fails_with(&["train", "hypergrid", "--condition-temperatures", "2,1"], &["phylo", "hypergrid"]);
    fails_with(&[&train[..], &["--anneal", "cascading"]].concat(), &["anneal"]);
    fails_with(&["train", "--resume", ckpt_s, "--condition-temperatures", "2,1"], &["condition"]);

    // `gfn phylo mll --reward-temperature`: the proposal at another temperature of a JC69 run's set
    // estimates the same (untempered) marginal likelihood with different samples.
    let jc = dir.join("jc.safetensors");
    let jc_s = jc.to_str().unwrap();
    let jc_train = ["train", "phylo", "--alignment", fasta_s, "--reward", "jc69", "--condition-temperatures", "4,2,1"];
    stdout(&gfn(&[&jc_train[..], &["--iterations", "10", "--hidden", "16", "--checkpoint", jc_s]].concat()));
    let mll = |t: Option<&str>| -> serde_json::Value {
        let mut args = vec!["phylo", "mll", "--checkpoint", jc_s, "--samples", "64", "--json"];
        args.extend(t.iter().flat_map(|t| ["--reward-temperature", *t]));
        serde_json::from_str(stdout(&gfn(&args)).trim()).expect("JSON")
    };
    let (at_one, at_four) = (mll(None), mll(Some("4")));
    let estimate = |v: &serde_json::Value| v["marginal_log_likelihood"].as_f64().expect("finite estimate");
    assert_ne!(estimate(&at_one), estimate(&at_four), "{at_one} {at_four}");
    assert_eq!(at_four["proposal_temperature"], 4.0, "{at_four}");
    fails_with(
        &["phylo", "mll", "--checkpoint", jc_s, "--reward-temperature", "3"],
        &["3", "conditioning temperatures"],
    );
    std::fs::remove_dir_all(&dir).ok();
}
