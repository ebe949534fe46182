//! Tests of the conformance checker on a hand-written counter environment with injectable bugs.

use super::*;

/// Counts from 0 to `max` by +1 or +2; action 0 is +1, action 1 is +2, action 2 is exit.
#[derive(Default)]
struct Counter {
    max: u32,
    bug: Option<Bug>,
}

#[derive(Clone, Copy, PartialEq)]
enum Bug {
    WrongInverse,
    MissingBackwardBit,
    SourceHasParent,
    NoExitAtEnd,
    NanReward,
    NanFeature,
    StaleMask,
    BadSlotLayout,
}

impl Environment for Counter {
    type State = u32;
    fn name(&self) -> String {
        "counter".into()
    }
    fn action_count(&self) -> usize {
        3
    }
    fn exit_action(&self) -> usize {
        2
    }
    fn feature_dim(&self) -> usize {
        1
    }
    fn source(&self) -> u32 {
        0
    }
    fn forward_mask(&self, s: &u32, mask: &mut [bool]) {
        if self.bug == Some(Bug::StaleMask) {
            mask[0] |= *s < self.max;
        } else {
            mask[0] = *s < self.max;
        }
        mask[1] = *s + 2 <= self.max;
        mask[2] = !(self.bug == Some(Bug::NoExitAtEnd) && *s == self.max);
    }
    fn backward_mask(&self, s: &u32, mask: &mut [bool]) {
        mask[0] = *s >= 1 || self.bug == Some(Bug::SourceHasParent);
        mask[1] = *s >= 2 && self.bug != Some(Bug::MissingBackwardBit);
        mask[2] = false;
    }
    fn step(&self, s: &mut u32, a: usize) -> Result<()> {
        *s += a as u32 + 1;
        Ok(())
    }
    fn backward_step(&self, s: &mut u32, a: usize) -> Result<()> {
        let by = if self.bug == Some(Bug::WrongInverse) && a == 1 { 1 } else { a as u32 + 1 };
        *s = s.wrapping_sub(by);
        Ok(())
    }
    fn log_reward(&self, s: &u32) -> f64 {
        if self.bug == Some(Bug::NanReward) && *s == 2 { f64::NAN } else { f64::from(*s) }
    }
    fn encode(&self, s: &u32, out: &mut [f32]) {
        out[0] = if self.bug == Some(Bug::NanFeature) { f32::NAN } else { *s as f32 };
    }
    fn slot_layout(&self) -> Option<crate::env::SlotLayout> {
        // One slot whose single ordered pair (0, 0) is the +1 action; +2 and exit are extra actions.
        let extra_actions = if self.bug == Some(Bug::BadSlotLayout) { 1 } else { 2 };
        let pairs = crate::env::PairKind::Ordered;
        Some(crate::env::SlotLayout { slots: 1, slot_dim: 1, global_dim: 0, pairs, per_pair: 1, extra_actions })
    }
}

fn check(bug: Option<Bug>) -> Result<CheckReport> {
    check_environment(&Counter { max: 4, bug }, &CheckOptions::default())
}

fn message(bug: Bug) -> String {
    match check(Some(bug)) {
        Err(Error::InconsistentEnvironment(m)) => m,
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[test]
fn a_correct_environment_passes() {
    let report = check(None).unwrap();
    assert_eq!(report, CheckReport { states: 5, terminals: 5, exhaustive: true });
    assert_environment_conforms(&Counter { max: 3, bug: None });
}

#[test]
fn the_state_limit_stops_the_walk() {
    let options = CheckOptions { state_limit: 2, ..CheckOptions::default() };
    let report = check_environment(&Counter { max: 6, bug: None }, &options).unwrap();
    assert!(!report.exhaustive);
    assert_eq!(report.states, 2);
}

#[test]
fn each_violation_is_named() {
    assert!(message(Bug::WrongInverse).contains("backward step gives"));
    assert!(message(Bug::MissingBackwardBit).contains("backward mask lacks action 1"));
    assert!(message(Bug::SourceHasParent).contains("the source 0 has a parent"));
    assert!(message(Bug::NoExitAtEnd).contains("state 4 allows no forward action"));
    assert!(message(Bug::NanReward).contains("log-reward NaN"));
    assert!(message(Bug::NanFeature).contains("feature 0 is NaN"));
    assert!(message(Bug::StaleMask).contains("does not write entry 0"));
    assert!(message(Bug::BadSlotLayout).contains("slot_layout.action_count"));
}

#[test]
#[should_panic(expected = "does not conform")]
fn the_assertion_panics_on_a_violation() {
    assert_environment_conforms(&Counter { max: 3, bug: Some(Bug::WrongInverse) });
}

/// 0 -> 1 -> 2 -> 3 by action 0, and 3 -> 1 by action 1: consistent masks, but a cycle.
struct Ring;

impl Environment for Ring {
    type State = u8;
    fn name(&self) -> String {
        "ring".into()
    }
    fn action_count(&self) -> usize {
        3
    }
    fn exit_action(&self) -> usize {
        2
    }
    fn feature_dim(&self) -> usize {
        0
    }
    fn source(&self) -> u8 {
        0
    }
    fn forward_mask(&self, s: &u8, mask: &mut [bool]) {
        mask.copy_from_slice(&[*s < 3, *s == 3, true]);
    }
    fn backward_mask(&self, s: &u8, mask: &mut [bool]) {
        mask.copy_from_slice(&[*s > 0, *s == 1, false]);
    }
    fn step(&self, s: &mut u8, a: usize) -> Result<()> {
        *s = if a == 1 { 1 } else { *s + 1 };
        Ok(())
    }
    fn backward_step(&self, s: &mut u8, a: usize) -> Result<()> {
        *s = if a == 1 { 3 } else { *s - 1 };
        Ok(())
    }
    fn log_reward(&self, _: &u8) -> f64 {
        0.0
    }
    fn encode(&self, _: &u8, _: &mut [f32]) {}
}

#[test]
fn cycles_are_found() {
    let error = check_environment(&Ring, &CheckOptions::default()).unwrap_err().to_string();
    assert!(error.contains("cycle: action 1 from state 3 leads back to its ancestor 1"), "{error}");
}
