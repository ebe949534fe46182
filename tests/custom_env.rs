//! The README's custom environment (permutations with a Mallows reward, declared with the DSL)
//! trains to the exact target.

#[allow(dead_code, reason = "the example's `main` is not called from the test")]
#[path = "../examples/custom_env.rs"]
mod example;

#[test]
fn custom_permutation_environment_trains_to_exact_target() {
    let env = example::permutations(4, 1.0).expect("valid");
    let summary = example::train(env, 1500, 7).expect("training runs");
    let eval = summary.eval.expect("exact evaluation");
    let l1 = eval.l1.expect("exact l1");
    eprintln!(
        "permutations n=4: exact L1 {l1:.4}, log Z {:.4} vs {:.4}",
        summary.log_z,
        eval.log_z_exact.unwrap_or(0.0)
    );
    assert!(l1 < 0.1, "exact L1 {l1}");
}
