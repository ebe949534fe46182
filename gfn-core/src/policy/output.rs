//! Host-side policy outputs and their layout.

use nalgebra::DMatrix;

use super::mixture::{Mixture, MixtureHead};

/// Row layout of the trunk output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLayout {
    /// Number of actions `A`.
    pub actions: usize,
    /// First row of the shared backward logits, if `P_B` shares the trunk.
    pub backward_offset: Option<usize>,
    /// Row of the state log-flow, if there is a flow head.
    pub flow_row: Option<usize>,
    /// `(first row, rows)` of the raw mixture parameters of a hybrid environment's continuous
    /// values (see [`MixtureHead`]), after every other row.
    pub mixture: Option<(usize, usize)>,
}

impl HeadLayout {
    /// The layout for `actions` actions with the given heads.
    pub fn new(actions: usize, shared_backward: bool, flow_head: bool) -> Self {
        let backward_offset = shared_backward.then_some(actions);
        let flow_row = flow_head.then_some(actions * if shared_backward { 2 } else { 1 });
        HeadLayout { actions, backward_offset, flow_row, mixture: None }
    }

    /// The layout with `rows` mixture rows appended (none when `rows == 0`).
    pub fn with_mixture(self, rows: usize) -> Self {
        let first = self.rows();
        HeadLayout { mixture: (rows > 0).then_some((first, rows)), ..self }
    }

    /// Total number of trunk output rows.
    pub fn rows(&self) -> usize {
        if let Some((first, rows)) = self.mixture {
            return first + rows;
        }
        self.flow_row.map_or(self.backward_offset.map_or(self.actions, |o| o + self.actions), |r| r + 1)
    }
}

/// Policy outputs for a batch of states, on the host.
#[derive(Debug, Clone)]
pub struct PolicyOutput {
    layout: HeadLayout,
    mixture: Option<MixtureHead>,
    trunk: DMatrix<f32>,
    backward: Option<DMatrix<f32>>,
}

impl PolicyOutput {
    pub(crate) fn new(
        layout: HeadLayout,
        mixture: Option<MixtureHead>,
        trunk: DMatrix<f32>,
        backward: Option<DMatrix<f32>>,
    ) -> Self {
        PolicyOutput { layout, mixture, trunk, backward }
    }

    /// The number of states evaluated.
    pub fn len(&self) -> usize {
        self.trunk.ncols()
    }

    /// Whether no state was evaluated.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The forward logits of state `j`.
    pub fn forward_logits(&self, j: usize) -> &[f32] {
        &self.column(j)[..self.layout.actions]
    }

    /// The learned backward logits of state `j` (`None` for a uniform `P_B`).
    pub fn backward_logits(&self, j: usize) -> Option<&[f32]> {
        match (&self.backward, self.layout.backward_offset) {
            (Some(b), _) => {
                let rows = b.nrows();
                Some(&b.as_slice()[j * rows..(j + 1) * rows])
            }
            (None, Some(o)) => Some(&self.column(j)[o..o + self.layout.actions]),
            (None, None) => None,
        }
    }

    /// The state log-flow `log F(s_j)`, if the policy has a flow head.
    pub fn log_flow(&self, j: usize) -> Option<f64> {
        self.layout.flow_row.map(|r| f64::from(self.column(j)[r]))
    }

    /// The mixture head of a hybrid environment's policy.
    pub fn mixture_head(&self) -> Option<&MixtureHead> {
        self.mixture.as_ref()
    }

    /// The trunk row of the first raw parameter of coordinate `coord` of mixture head `head`, or
    /// `None` without a mixture head.
    pub fn mixture_row(&self, head: usize, coord: usize) -> Option<usize> {
        let (first, _) = self.layout.mixture?;
        Some(first + self.mixture?.offset(head, coord))
    }

    /// The mixture of coordinate `coord` of head `head` at state `j`, or `None` without a mixture
    /// head.
    pub fn mixture(&self, j: usize, head: usize, coord: usize) -> Option<Mixture> {
        let (row, m) = (self.mixture_row(head, coord)?, self.mixture?);
        let raw: Vec<f64> = self.column(j)[row..row + m.block()].iter().map(|&r| f64::from(r)).collect();
        Some(m.mixture(&raw))
    }

    fn column(&self, j: usize) -> &[f32] {
        let rows = self.trunk.nrows();
        &self.trunk.as_slice()[j * rows..(j + 1) * rows]
    }
}
