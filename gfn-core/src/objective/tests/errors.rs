//! Error paths: bad shapes, non-finite inputs, invalid configurations.

use super::{Batch, Flows, LENGTHS};
use crate::Error;
use crate::objective::{
    ContrastiveBalance, DetailedBalance, FlowGrads, FlowMatching, ModifiedDetailedBalance, Objective, Pairing,
    Residual, SubTrajectoryBalance, TermGrads, TrajectoryBalance, TrajectoryTerms, VarGrad,
};

fn run(objective: &dyn Objective, terms: &TrajectoryTerms<'_>) -> crate::Result<f64> {
    objective.evaluate(terms, &mut TermGrads::default())
}

fn all_objectives() -> Vec<Box<dyn Objective>> {
    vec![
        Box::new(TrajectoryBalance::default()),
        Box::new(VarGrad::default()),
        Box::new(ContrastiveBalance::new(Pairing::AllPairs, Residual::Squared)),
        Box::new(DetailedBalance::default()),
        Box::new(ModifiedDetailedBalance::default()),
        Box::new(SubTrajectoryBalance::default()),
    ]
}

#[test]
fn objective_cb_halves_rejects_odd_batch() {
    let batch = Batch::random(200, &[2, 3, 1]);
    let cb = ContrastiveBalance::default();
    assert!(cb.requirements().even_batch);
    assert!(!ContrastiveBalance::new(Pairing::AllPairs, Residual::Squared).requirements().even_batch);
    match run(&cb, &batch.terms()) {
        Err(Error::InvalidConfig { field: "batch_size", value, .. }) => assert_eq!(value, "3"),
        other => panic!("expected an odd-batch error, got {other:?}"),
    }
}

#[test]
fn objective_rejects_bad_shapes() {
    let batch = Batch::random(201, &LENGTHS);
    for objective in all_objectives() {
        let name = objective.name();
        let mut terms = batch.terms();
        terms.log_pb = &batch.log_pb[1..];
        assert!(matches!(run(&*objective, &terms), Err(Error::ShapeMismatch { .. })), "{name}");
        let mut terms = batch.terms();
        terms.log_reward = &batch.log_reward[1..];
        assert!(matches!(run(&*objective, &terms), Err(Error::ShapeMismatch { .. })), "{name}");
        for offsets in [&[][..], &[0], &[0, 3, 3, 17], &[0, 5, 3, 17], &[0, 3, 18], &[1, 17]] {
            let mut terms = batch.terms();
            terms.offsets = offsets;
            let result = run(&*objective, &terms);
            assert!(matches!(result, Err(Error::InvalidConfig { field: "offsets", .. })), "{name}");
        }
    }
    let mut terms = batch.terms();
    terms.log_flow = Some(&batch.log_flow[2..]);
    let result = run(&DetailedBalance::default(), &terms);
    assert!(matches!(result, Err(Error::ShapeMismatch { .. })));
    terms.log_flow = None;
    let result = run(&SubTrajectoryBalance::default(), &terms);
    assert!(matches!(result, Err(Error::InvalidConfig { field: "log_flow", .. })));
    let mut terms = batch.terms();
    terms.log_z = None;
    let result = run(&TrajectoryBalance::default(), &terms);
    assert!(matches!(result, Err(Error::InvalidConfig { field: "log_z", .. })));
    terms.log_pf_exit = None;
    let result = run(&ModifiedDetailedBalance::default(), &terms);
    assert!(matches!(result, Err(Error::InvalidConfig { field: "log_pf_exit", .. })));
}

#[test]
fn objective_rejects_non_finite_inputs() {
    let batch = Batch::random(202, &LENGTHS);
    for objective in all_objectives() {
        let mut bad = batch.clone();
        bad.log_pf[4] = f64::NAN;
        match run(&*objective, &bad.terms()) {
            Err(Error::NonFinite { what, value }) => {
                assert_eq!(what, "log_pf[4]");
                assert!(value.is_nan());
            }
            other => panic!("{}: expected NonFinite, got {other:?}", objective.name()),
        }
    }
    type Case<'a> = (&'a str, &'a dyn Objective, fn(&mut Batch));
    let cases: [Case<'_>; 5] = [
        ("log_z", &TrajectoryBalance::default(), |b| b.log_z = f64::INFINITY),
        ("log_reward[2]", &VarGrad::default(), |b| b.log_reward[2] = f64::INFINITY),
        ("log_pb[1]", &SubTrajectoryBalance::default(), |b| b.log_pb[1] = f64::NEG_INFINITY),
        ("log_flow[2]", &DetailedBalance::default(), |b| b.log_flow[2] = f64::NAN),
        ("log_pf_exit[2]", &ModifiedDetailedBalance::default(), |b| b.log_pf_exit[2] = f64::NEG_INFINITY),
    ];
    for (term, objective, corrupt) in cases {
        let mut bad = batch.clone();
        corrupt(&mut bad);
        match run(objective, &bad.terms()) {
            Err(Error::NonFinite { what, .. }) => assert_eq!(what, term),
            other => panic!("{term}: expected NonFinite, got {other:?}"),
        }
    }
}

/// Terms an objective does not read may be non-finite: `log_pb` of exit steps, and exit terms of
/// states no proper step touches (the only state of a length-1 trajectory).
#[test]
fn objective_ignores_unread_terms() {
    let mut batch = Batch::random(203, &LENGTHS);
    batch.log_pb[0] = f64::NAN;
    batch.log_pf_exit[0] = f64::NEG_INFINITY;
    batch.log_reward_state[0] = f64::NEG_INFINITY;
    for objective in all_objectives() {
        let loss = run(&*objective, &batch.terms()).unwrap();
        assert!(loss.is_finite(), "{}", objective.name());
    }
    let only_exits = Batch::random(204, &[1, 1, 1]);
    let mut grads = TermGrads::default();
    let moddb = ModifiedDetailedBalance::default();
    assert_eq!(moddb.evaluate(&only_exits.terms(), &mut grads).unwrap(), 0.0);
    assert!(grads.log_pf.iter().chain(&grads.log_pf_exit).all(|&c| c == 0.0));
}

#[test]
fn objective_rejects_bad_parameters() {
    for lambda in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            SubTrajectoryBalance::new(lambda, Residual::Squared),
            Err(Error::InvalidConfig { field: "lambda", .. })
        ));
        let subtb = SubTrajectoryBalance { lambda, residual: Residual::Squared };
        let result = run(&subtb, &Batch::random(205, &LENGTHS).terms());
        assert!(matches!(result, Err(Error::InvalidConfig { field: "lambda", .. })));
    }
    let huber = TrajectoryBalance::new(Residual::Huber { delta: -1.0 });
    let result = run(&huber, &Batch::random(206, &LENGTHS).terms());
    assert!(matches!(result, Err(Error::InvalidConfig { field: "residual.huber.delta", .. })));
}

#[test]
fn objective_flow_matching_rejects_bad_input() {
    let fm = FlowMatching::default();
    let flows = Flows::random(207, 4);
    let check = |flows: &Flows| fm.evaluate(&flows.terms(), &mut FlowGrads::default());
    assert!(check(&flows).is_ok());

    let mut no_out = flows.clone();
    no_out.out_offsets[2] = no_out.out_offsets[1];
    assert!(matches!(check(&no_out), Err(Error::InconsistentEnvironment(_))));

    let mut bad = flows.clone();
    bad.in_log_flow[1] = f64::NAN;
    assert!(matches!(check(&bad), Err(Error::NonFinite { what, .. }) if what == "in_log_flow[1]"));
    let mut bad = flows.clone();
    bad.sink_log_flow[0] = f64::INFINITY;
    assert!(matches!(check(&bad), Err(Error::NonFinite { what, .. }) if what == "sink_log_flow[0]"));
    let mut bad = flows.clone();
    bad.sink_log_reward.pop();
    assert!(matches!(check(&bad), Err(Error::ShapeMismatch { .. })));
    let mut bad = flows.clone();
    bad.out_offsets.pop();
    assert!(matches!(check(&bad), Err(Error::ShapeMismatch { .. })));
    let mut bad = flows.clone();
    bad.in_offsets.clear();
    assert!(matches!(check(&bad), Err(Error::InvalidConfig { field: "in_offsets", .. })));
    let empty = Flows::random(208, 0);
    assert!(matches!(check(&empty), Err(Error::InvalidConfig { field: "flow_terms", .. })));
    let mut bad = flows;
    bad.in_offsets.push(bad.in_log_flow.len() + 1);
    bad.out_offsets.push(bad.out_log_flow.len() + 1);
    assert!(matches!(check(&bad), Err(Error::InvalidConfig { field: "in_offsets", .. })));
}
