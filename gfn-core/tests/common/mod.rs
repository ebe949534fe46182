//! A minimal hand-written grid environment used by gfn-core's own tests (the built-in
//! environments live in gfn-envs and are declared with the DSL).

use gfn_core::env::{Enumerable, Environment};
use gfn_core::{Error, Result};

/// A `dim`-dimensional grid of side `side`; actions increment a coordinate; every state may exit.
/// `log R(s) = log(r0 + [all coordinates in the upper or lower quarter])`.
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    pub(crate) dim: usize,
    pub(crate) side: usize,
    pub(crate) r0: f64,
}

impl Environment for Grid {
    type State = Vec<u8>;
    fn name(&self) -> String {
        "test-grid".into()
    }
    fn action_count(&self) -> usize {
        self.dim + 1
    }
    fn exit_action(&self) -> usize {
        self.dim
    }
    fn feature_dim(&self) -> usize {
        self.dim * self.side
    }
    fn source(&self) -> Vec<u8> {
        vec![0; self.dim]
    }
    fn forward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        for (d, &c) in s.iter().enumerate() {
            mask[d] = (c as usize) + 1 < self.side;
        }
        mask[self.dim] = true;
    }
    fn backward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        for (d, &c) in s.iter().enumerate() {
            mask[d] = c > 0;
        }
    }
    fn step(&self, s: &mut Vec<u8>, a: usize) -> Result<()> {
        if a >= self.dim || s[a] as usize + 1 >= self.side {
            return Err(Error::InvalidAction { action: a, state: format!("{s:?}"), reason: "off grid".into() });
        }
        s[a] += 1;
        Ok(())
    }
    fn backward_step(&self, s: &mut Vec<u8>, a: usize) -> Result<()> {
        if a >= self.dim || s[a] == 0 {
            return Err(Error::InvalidAction { action: a, state: format!("{s:?}"), reason: "at zero".into() });
        }
        s[a] -= 1;
        Ok(())
    }
    fn log_reward(&self, s: &Vec<u8>) -> f64 {
        let q = self.side as f64 / 4.0;
        let corner = s.iter().all(|&c| (c as f64) < q || (c as f64) >= self.side as f64 - q);
        (self.r0 + if corner { 1.0 } else { 0.0 }).ln()
    }
    fn encode(&self, s: &Vec<u8>, out: &mut [f32]) {
        for (d, &c) in s.iter().enumerate() {
            out[d * self.side + c as usize] = 1.0;
        }
    }
}

impl Enumerable for Grid {}
