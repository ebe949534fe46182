//! `gfn ep`: client policy files, aggregation from files only, and rejection of mismatched files.

use std::path::PathBuf;
use std::process::{Command, Output};

fn gfn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gfn")).args(args).output().expect("gfn runs")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gfn-ep-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn client(dir: &std::path::Path, factor: usize, size: &str, iterations: &str) -> String {
    let out = dir.join(format!("client{factor}-{size}.st"));
    let path = out.to_str().expect("utf-8").to_string();
    let f = factor.to_string();
    let args = ["ep", "client", "multisets", "--types", "4", "--size", size, "--factors", "2", "--factor", &f];
    let o = gfn(&[&args[..], &["--iterations", iterations, "--out", &path]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.exists() && dir.join(format!("client{factor}-{size}.st.json")).exists());
    path
}

fn fails_with(args: &[&str], needles: &[&str]) {
    let o = gfn(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?} should fail: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{err:?} does not mention {n:?}");
    }
}

#[test]
fn clients_then_aggregate_from_files_matches_the_product() {
    let dir = temp("ok");
    let c0 = client(&dir, 0, "3", "300");
    let c1 = client(&dir, 1, "3", "300");
    let server = dir.join("server.st");
    let o = gfn(&["ep", "aggregate", &c0, &c1, "--iterations", "300", "--json", "--out", server.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let line: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap();
    let agg = &line["aggregate"];
    assert!(agg["l1_server"].as_f64().unwrap() < 0.1, "{line}");
    assert!(agg["jeffrey_ideal"].as_f64().unwrap() <= agg["bound"].as_f64().unwrap(), "{line}");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("server.st.json")).unwrap()).unwrap();
    assert!(meta["factor"].is_null() && meta["format"] == "gfn-ep-policy-1", "{meta}");
}

#[test]
fn mismatched_duplicate_and_missing_clients_are_rejected() {
    let dir = temp("bad");
    let c0 = client(&dir, 0, "3", "5");
    let other = client(&dir, 1, "4", "5");
    fails_with(
        &["ep", "aggregate", &c0, &other, "--iterations", "5"],
        &[&other, "trained on environment", "multisets:4:4"],
    );
    fails_with(&["ep", "aggregate", &c0, &c0, "--iterations", "5"], &["second policy for factor 0"]);
    fails_with(&["ep", "aggregate", &c0, "--iterations", "5"], &["no policy for factor(s) 1"]);
    fails_with(
        &["ep", "client", "multisets", "--factors", "2", "--factor", "2", "--out", "/nonexistent/x"],
        &["factor", "0..2"],
    );
    fails_with(&["ep", "aggregate", "/nonexistent/c.st"], &["/nonexistent/c.st"]);
}
