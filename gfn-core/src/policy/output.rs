//! Host-side policy outputs and their layout.

use nalgebra::DMatrix;

/// Row layout of the trunk output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLayout {
    /// Number of actions `A`.
    pub actions: usize,
    /// First row of the shared backward logits, if `P_B` shares the trunk.
    pub backward_offset: Option<usize>,
    /// Row of the state log-flow, if there is a flow head.
    pub flow_row: Option<usize>,
}

impl HeadLayout {
    /// The layout for `actions` actions with the given heads.
    pub fn new(actions: usize, shared_backward: bool, flow_head: bool) -> Self {
        let backward_offset = shared_backward.then_some(actions);
        let flow_row = flow_head.then_some(actions * if shared_backward { 2 } else { 1 });
        HeadLayout { actions, backward_offset, flow_row }
    }

    /// Total number of trunk output rows.
    pub fn rows(&self) -> usize {
        self.flow_row.map_or(self.backward_offset.map_or(self.actions, |o| o + self.actions), |r| r + 1)
    }
}

/// Policy outputs for a batch of states, on the host.
#[derive(Debug, Clone)]
pub struct PolicyOutput {
    layout: HeadLayout,
    trunk: DMatrix<f32>,
    backward: Option<DMatrix<f32>>,
}

impl PolicyOutput {
    pub(crate) fn new(layout: HeadLayout, trunk: DMatrix<f32>, backward: Option<DMatrix<f32>>) -> Self {
        PolicyOutput { layout, trunk, backward }
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

    fn column(&self, j: usize) -> &[f32] {
        let rows = self.trunk.nrows();
        &self.trunk.as_slice()[j * rows..(j + 1) * rows]
    }
}
