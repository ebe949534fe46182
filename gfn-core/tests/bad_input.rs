//! User errors surface as errors naming the bad value, never as panics.

mod common;

use common::Grid;
use gfn_core::Error;
use gfn_core::backend::Cpu;
use gfn_core::env::{Enumerable, Environment, StateGraph};
use gfn_core::train::{TrainConfig, Trainer};

/// The test grid with a defect injected.
#[derive(Debug, Clone)]
enum Defect {
    NanReward,
    DeadEnd,
    Cycle,
}

#[derive(Debug, Clone)]
struct Broken {
    grid: Grid,
    defect: Defect,
}

impl Environment for Broken {
    type State = Vec<u8>;
    fn name(&self) -> String {
        "broken".into()
    }
    fn action_count(&self) -> usize {
        self.grid.action_count()
    }
    fn exit_action(&self) -> usize {
        self.grid.exit_action()
    }
    fn feature_dim(&self) -> usize {
        self.grid.feature_dim()
    }
    fn source(&self) -> Vec<u8> {
        self.grid.source()
    }
    fn forward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        self.grid.forward_mask(s, mask);
        match self.defect {
            // No action at all from (1, 0).
            Defect::DeadEnd if s == &vec![1, 0] => mask.fill(false),
            // From (1, 0) action 1 leads back to the source; forbid exit so sampling loops.
            Defect::Cycle if s[0] > 0 => {
                mask.fill(false);
                mask[1] = true;
            }
            _ => {}
        }
    }
    fn backward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        self.grid.backward_mask(s, mask);
    }
    fn step(&self, s: &mut Vec<u8>, a: usize) -> gfn_core::Result<()> {
        if matches!(self.defect, Defect::Cycle) && s[0] > 0 && a == 1 {
            s.fill(0);
            return Ok(());
        }
        self.grid.step(s, a)
    }
    fn backward_step(&self, s: &mut Vec<u8>, a: usize) -> gfn_core::Result<()> {
        self.grid.backward_step(s, a)
    }
    fn log_reward(&self, s: &Vec<u8>) -> f64 {
        match self.defect {
            Defect::NanReward if s[0] == 1 => f64::NAN,
            _ => self.grid.log_reward(s),
        }
    }
    fn encode(&self, s: &Vec<u8>, out: &mut [f32]) {
        self.grid.encode(s, out);
    }
}

impl Enumerable for Broken {}

fn broken(defect: Defect) -> Broken {
    Broken { grid: Grid { dim: 2, side: 4, r0: 0.1 }, defect }
}

fn train(env: Broken) -> gfn_core::Result<()> {
    let config = TrainConfig { iterations: 50, batch_size: 16, ..TrainConfig::default() };
    let mut t = Trainer::new(env, config)?;
    for _ in 0..50 {
        t.step()?;
    }
    Ok(())
}

#[test]
fn nan_rewards_are_rejected_with_the_state() {
    let err = train(broken(Defect::NanReward)).expect_err("NaN reward");
    assert!(matches!(&err, Error::InvalidReward { value, .. } if value.is_nan()), "{err}");
    assert!(err.to_string().contains("[1, "), "{err}");
}

#[test]
fn dead_ends_are_inconsistent_environments() {
    let err = train(broken(Defect::DeadEnd)).expect_err("dead end");
    assert!(matches!(&err, Error::InconsistentEnvironment(m) if m.contains("[1, 0]")), "{err}");
}

#[test]
fn cycles_are_detected() {
    let env = broken(Defect::Cycle);
    let err = StateGraph::build(&env, 1000).expect_err("cycle");
    assert!(matches!(&err, Error::InconsistentEnvironment(m) if m.contains("cycle")), "{err}");
    let err = train(env).expect_err("endless trajectory");
    assert!(matches!(err, Error::InconsistentEnvironment(_)), "{err}");
}

#[test]
fn corrupt_and_missing_checkpoints_are_errors() {
    let dir = std::env::temp_dir().join(format!("gfn-bad-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let grid = Grid { dim: 2, side: 4, r0: 0.1 };
    let path = dir.join("c.safetensors");
    let missing = Trainer::from_checkpoint(grid.clone(), Cpu, &path).expect_err("missing");
    assert!(missing.to_string().contains("c.safetensors"), "{missing}");

    let mut t = Trainer::new(grid.clone(), TrainConfig { iterations: 3, ..TrainConfig::default() }).expect("trainer");
    t.step().expect("step");
    t.save_checkpoint(&path, &serde_json::Value::Null).expect("save");
    let sidecar = dir.join("c.safetensors.json");
    let text = std::fs::read_to_string(&sidecar).expect("sidecar");
    std::fs::write(&sidecar, &text[..text.len() / 2]).expect("truncate");
    let err = Trainer::from_checkpoint(grid.clone(), Cpu, &path).expect_err("corrupt sidecar");
    assert!(matches!(err, Error::Checkpoint { .. }), "{err}");

    std::fs::write(&sidecar, text.replace("\"iteration\": 1", "\"iteration\": 7")).expect("write");
    let err = Trainer::from_checkpoint(grid, Cpu, &path).expect_err("torn pair");
    assert!(err.to_string().contains("iteration"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
