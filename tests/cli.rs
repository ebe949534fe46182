//! The `gfn` binary: JSON summary, eval/sample round trip, and clear errors on bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

fn gfn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gfn")).args(args).output().expect("gfn runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gfn-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Asserts that `args` fail with exit code 2 and an error mentioning every needle.
fn fails_with(args: &[&str], needles: &[&str]) {
    let out = gfn(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?} should fail; stderr: {err}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: error {err:?} does not mention {n:?}");
    }
}

#[test]
fn train_prints_json_summary_and_checkpoint_round_trips() {
    let dir = temp("roundtrip");
    let ckpt = dir.join("grid.safetensors");
    let ckpt_s = ckpt.to_str().expect("utf-8 path");
    let out = gfn(&[
        "train",
        "hypergrid",
        "--ndim",
        "2",
        "--height",
        "4",
        "--iterations",
        "50",
        "--batch-size",
        "8",
        "--json",
        "--checkpoint",
        ckpt_s,
        "--seed",
        "5",
    ]);
    assert!(out.status.success(), "train failed: {}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let last = stdout.lines().last().expect("a summary line");
    let v: serde_json::Value = serde_json::from_str(last).expect("JSON summary");
    for key in
        ["env", "objective", "seed", "iterations", "l1", "log_z", "log_z_exact", "ms_per_iter", "trajectories_per_s"]
    {
        assert!(v.get(key).is_some(), "summary lacks {key}: {v}");
    }
    assert_eq!(v["env"], "hypergrid");
    assert_eq!(v["iterations"], 50);
    assert!(v["l1"].as_f64().expect("l1") >= 0.0);

    let out = gfn(&["eval", "--checkpoint", ckpt_s, "--json"]);
    assert!(out.status.success(), "eval failed: {}", stderr(&out));
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8(out.stdout).expect("utf-8").trim()).expect("eval JSON");
    assert_eq!(v["iteration"], 50);

    let out = gfn(&["sample", "--checkpoint", ckpt_s, "-n", "5"]);
    assert!(out.status.success(), "sample failed: {}", stderr(&out));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(text.lines().count(), 5);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("one JSON object per line");
        assert!(v["log_reward"].is_number());
    }

    // A checkpoint resumed on another environment is rejected.
    let other = dir.join("other.safetensors");
    let out = gfn(&[
        "train",
        "hypergrid",
        "--ndim",
        "3",
        "--height",
        "4",
        "--iterations",
        "2",
        "--checkpoint",
        other.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::copy(dir.join("grid.safetensors.json"), dir.join("other.safetensors.json")).expect("copy sidecar");
    fails_with(&["eval", "--checkpoint", other.to_str().expect("utf-8")], &["checkpoint"]);

    // Corrupt tensors.
    std::fs::write(&ckpt, b"not a safetensors file").expect("write");
    fails_with(&["eval", "--checkpoint", ckpt_s], &["corrupt"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    fails_with(&["train", "hypergrid", "--objective", "nope"], &["nope", "tb"]);
    fails_with(&["train", "hypergrid", "--height", "0"], &["height", "0"]);
    fails_with(&["train", "hypergrid", "--ndim", "0"], &["ndim"]);
    fails_with(&["train", "hypergrid", "--r0", "0"], &["r0"]);
    fails_with(&["train", "hypergrid", "--r0", "-1"], &["r0"]);
    fails_with(&["train", "hypergrid", "--lr", "-0.1"], &["lr", "-0.1"]);
    fails_with(&["train", "hypergrid", "--batch-size", "0"], &["batch_size"]);
    fails_with(&["train", "hypergrid", "--epsilon", "2"], &["epsilon"]);
    fails_with(&["train", "hypergrid", "--objective", "cb", "--batch-size", "7"], &["batch"]);
    fails_with(&["train", "hypergrid", "--length", "8"], &["length", "hypergrid"]);
    fails_with(&["train", "hypergrid", "--activation", "swish9"], &["swish9"]);
    fails_with(&["train", "hypergrid", "--objective", "renyi", "--alpha", "1"], &["alpha", "rkl"]);
    fails_with(&["train", "hypergrid", "--objective", "rkl", "--epsilon", "0.1"], &["on-policy"]);
    fails_with(&["train", "hypergrid", "--objective", "rkl", "--replay", "10"], &["replay"]);
    fails_with(&["train", "hypergrid", "--objective", "tb", "--cv", "loo"], &["cv", "divergence"]);
    fails_with(&["train", "hypergrid", "--objective", "rkl", "--cv", "bogus"], &["bogus", "loo"]);
    fails_with(&["train", "hypergrid", "--objective", "akl", "--alpha", "1.5"], &["alpha", "[0, 1]"]);
    fails_with(&["train", "bitseq", "--objective", "atb", "--iterations", "1"], &["exact target samples"]);
    fails_with(&["eval", "--checkpoint", "/nonexistent/ckpt.safetensors"], &["/nonexistent/ckpt.safetensors"]);
    fails_with(&["train", "hypergrid", "--eval-samples", "0"], &["eval.samples", "0"]);
    fails_with(&["train", "hypergrid", "--eval-backward-samples", "0"], &["eval.backward_samples", "0"]);
    let dir = temp("config");
    let cfg = dir.join("bad.toml");
    std::fs::write(&cfg, "[train]\nbatch_sise = 3\n").expect("write");
    fails_with(&["train", "--config", cfg.to_str().expect("utf-8")], &["batch_sise"]);
    std::fs::write(&cfg, "[env]\nkind = \"hypergrid\"\nheight = 5\n[train]\niterations = 3\n").expect("write");
    let out = gfn(&["train", "--config", cfg.to_str().expect("utf-8"), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8(out.stdout).expect("utf-8").lines().last().expect("line"))
            .expect("json");
    assert_eq!(v["env_config"]["height"], 5);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_pair_architecture_is_selected_by_flag_or_config_and_needs_a_slot_layout() {
    let hypergrid = ["train", "hypergrid", "--ndim", "2", "--height", "4", "--iterations", "2"];
    fails_with(&[&hypergrid[..], &["--architecture", "pairs"]].concat(), &["policy.architecture", "slot layout"]);
    fails_with(&[&hypergrid[..], &["--architecture", "graph"]].concat(), &["graph", "mlp or pairs"]);
    let out = gfn(&[&hypergrid[..], &["--architecture", "mlp", "--json"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = temp("architecture");
    let cfg = dir.join("pairs.toml");
    std::fs::write(&cfg, "[env]\nkind = \"hypergrid\"\n[train.policy]\narchitecture = \"pairs\"\n").expect("write");
    fails_with(&["train", "--config", cfg.to_str().expect("utf-8")], &["policy.architecture", "slot layout"]);
    std::fs::write(&cfg, "[train.policy]\narchitecture = \"transformer\"\n").expect("write");
    fails_with(&["train", "--config", cfg.to_str().expect("utf-8")], &["transformer"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn monte_carlo_evaluation_sizes_come_from_flags() {
    let run = ["train", "hypergrid", "--ndim", "2", "--height", "4", "--iterations", "2", "--eval", "mc", "--json"];
    let v = summary(&gfn(&[&run[..], &["--eval-samples", "7", "--eval-backward-samples", "2"]].concat()));
    assert_eq!((v["eval_samples"].as_u64(), v["l1_objects"].as_u64()), (Some(7), Some(7)));
    assert!(v["l1"].as_f64().is_some());
    // A budget the first chunk of forward trajectories spends: log Z is estimated, L1 is not.
    let v = summary(&gfn(&[&run[..], &["--eval-samples", "7", "--eval-feature-budget", "1"]].concat()));
    assert_eq!((v["eval_samples"].as_u64(), v["l1_objects"].as_u64()), (Some(7), Some(0)));
    assert!(v["l1"].is_null() && v["log_z_estimate"].as_f64().is_some(), "{v}");
}

/// The summary JSON (last stdout line) of a successful run.
fn summary(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "run failed: {}", stderr(out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    serde_json::from_str(stdout.lines().last().expect("a summary line")).expect("JSON summary")
}

/// `gfn sample` → file → forward KL on those samples (`--target-samples`), and malformed files are
/// errors naming the line.
#[test]
fn forward_kl_trains_on_sampled_objects() {
    let dir = temp("targets");
    let ckpt = dir.join("tb.safetensors");
    let ckpt_s = ckpt.to_str().expect("utf-8 path");
    let grid = ["hypergrid", "--ndim", "2", "--height", "4"];
    let tb =
        gfn(&[&["train"], &grid[..], &["--iterations", "600", "--checkpoint", ckpt_s, "--seed", "1", "--json"]]
            .concat());
    let tb_l1 = summary(&tb)["l1"].as_f64().expect("l1");
    let out = gfn(&["sample", "--checkpoint", ckpt_s, "-n", "2000"]);
    assert!(out.status.success(), "sample failed: {}", stderr(&out));
    let file = dir.join("samples.jsonl");
    std::fs::write(&file, &out.stdout).expect("write samples");
    let file_s = file.to_str().expect("utf-8 path");
    let fkl = |extra: &[&str]| {
        let args =
            [&["train"], &grid[..], &["--objective", "fkl", "--target-samples", file_s, "--json"], extra].concat();
        gfn(&args)
    };
    let untrained = summary(&fkl(&["--iterations", "0"]))["l1"].as_f64().expect("l1");
    let trained = summary(&fkl(&["--iterations", "600", "--seed", "2"]))["l1"].as_f64().expect("l1");
    eprintln!("TB model L1 {tb_l1:.4}; forward KL on 2000 of its samples: L1 {untrained:.4} -> {trained:.4}");
    assert!(trained < 0.25 && trained < untrained / 4.0, "fkl on data: L1 {untrained} -> {trained}");

    // Objects may be named without actions (resolved among the enumerated terminal objects).
    let named = dir.join("named.jsonl");
    std::fs::write(&named, "{\"object\": \"GridState { coords: [3, 3] }\"}\n\n{\"actions\": [0, 1]}\n").expect("write");
    let named_s = named.to_str().expect("utf-8 path");
    let args =
        [&["train"], &grid[..], &["--objective", "akl", "--target-samples", named_s, "--iterations", "2"]].concat();
    assert!(gfn(&args).status.success(), "named objects");

    let bad = dir.join("bad.jsonl");
    let bad_s = bad.to_str().expect("utf-8 path");
    let cases: [(&str, &[&str]); 7] = [
        ("{\"actions\": [0]}\nnot json\n", &["line 2", "invalid JSON"]),
        ("{\"actions\": [0, 0, 0, 0]}\n", &["line 1", "action 0 at step 3"]),
        ("{\"actions\": [0]}\n{\"object\": \"GridState { coords: [9, 9] }\"}\n", &["line 2", "unknown object"]),
        ("{\"actions\": [0], \"object\": \"GridState { coords: [0, 1] }\"}\n", &["line 1", "not to the object"]),
        ("{\"actions\": \"up\"}\n", &["line 1", "array of action indices"]),
        ("{\"log_reward\": 1.0}\n", &["line 1", "\"actions\""]),
        ("\n\n", &["no target samples"]),
    ];
    for (text, needles) in cases {
        std::fs::write(&bad, text).expect("write");
        fails_with(&[&["train"], &grid[..], &["--objective", "fkl", "--target-samples", bad_s]].concat(), needles);
    }
    fails_with(&["train", "hypergrid", "--target-samples", file_s], &["--target-samples", "tb"]);
    fails_with(
        &["train", "hypergrid", "--objective", "fkl", "--cv", "opt-scalar", "--target-samples", file_s],
        &["opt-scalar", "fkl"],
    );
    fails_with(
        &["train", "hypergrid", "--objective", "fkl", "--target-samples", "/nonexistent/s.jsonl"],
        &["/nonexistent/s.jsonl"],
    );
    std::fs::remove_dir_all(&dir).ok();
}
