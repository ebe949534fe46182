//! A hand-written hypergrid (masks and steps coded by hand), the baseline against which the
//! DSL-derived `gfn_envs::hypergrid::Hypergrid` is benchmarked. Not used anywhere else: built-in
//! environments are declared with the DSL.

use gfn::env::Environment;
use gfn::{Error, Result};

/// `ndim` coordinates in `0..height`; actions increment a coordinate or exit.
pub(crate) struct HandwrittenGrid {
    pub(crate) ndim: usize,
    pub(crate) height: usize,
}

impl Environment for HandwrittenGrid {
    type State = Vec<u8>;

    fn name(&self) -> String {
        "handwritten-grid".into()
    }

    fn action_count(&self) -> usize {
        self.ndim + 1
    }

    fn exit_action(&self) -> usize {
        self.ndim
    }

    fn feature_dim(&self) -> usize {
        self.ndim * self.height
    }

    fn source(&self) -> Vec<u8> {
        vec![0; self.ndim]
    }

    fn forward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        for (m, &c) in mask.iter_mut().zip(s) {
            *m = (c as usize) + 1 < self.height;
        }
        mask[self.ndim] = true;
    }

    fn backward_mask(&self, s: &Vec<u8>, mask: &mut [bool]) {
        for (m, &c) in mask.iter_mut().zip(s) {
            *m = c > 0;
        }
        mask[self.ndim] = false;
    }

    fn step(&self, s: &mut Vec<u8>, action: usize) -> Result<()> {
        match s.get_mut(action) {
            Some(c) if (*c as usize) + 1 < self.height => {
                *c += 1;
                Ok(())
            }
            _ => Err(Error::InvalidAction { action, state: format!("{s:?}"), reason: "off the grid".into() }),
        }
    }

    fn backward_step(&self, s: &mut Vec<u8>, action: usize) -> Result<()> {
        match s.get_mut(action) {
            Some(c) if *c > 0 => {
                *c -= 1;
                Ok(())
            }
            _ => Err(Error::InvalidAction { action, state: format!("{s:?}"), reason: "at zero".into() }),
        }
    }

    fn log_reward(&self, _: &Vec<u8>) -> f64 {
        0.0
    }

    fn encode(&self, s: &Vec<u8>, out: &mut [f32]) {
        for (d, &c) in s.iter().enumerate() {
            out[d * self.height + c as usize] = 1.0;
        }
    }
}
