//! The distinct states of one lock-step round: trajectories in the same state (all of them in the
//! first round, many in the next few) are evaluated by the policy once.

use std::hash::{Hash, Hasher};

use nalgebra::DMatrix;
use rustc_hash::FxHashMap;

/// A feature vector, hashed and compared by the bits of its entries (the policy is a function of
/// the features, so equal bits mean equal outputs).
struct FeatureBits<'a>(&'a [f32]);

impl Hash for FeatureBits<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Two entries per word: one multiply per eight bytes with FxHasher (features of large
        // environments are 10⁵ floats per state).
        let mut pairs = self.0.chunks_exact(2);
        for pair in &mut pairs {
            state.write_u64(u64::from(pair[0].to_bits()) | (u64::from(pair[1].to_bits()) << 32));
        }
        if let [last] = pairs.remainder() {
            state.write_u32(last.to_bits());
        }
    }
}

impl PartialEq for FeatureBits<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(other.0).all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

impl Eq for FeatureBits<'_> {}

/// The feature vectors `states` (each `feature_dim` long) as a `feature_dim × u` matrix with one
/// column per distinct vector, in order of first appearance, and the column of each state.
pub(super) fn distinct_feature_matrix<'a>(
    feature_dim: usize,
    states: impl ExactSizeIterator<Item = &'a [f32]>,
) -> (DMatrix<f32>, Vec<usize>) {
    let n = states.len();
    let mut columns: FxHashMap<FeatureBits<'a>, usize> = FxHashMap::with_capacity_and_hasher(n, Default::default());
    let mut data = Vec::with_capacity(feature_dim * n);
    let mut column_of = Vec::with_capacity(n);
    for features in states {
        let next = columns.len();
        let column = *columns.entry(FeatureBits(features)).or_insert_with(|| {
            data.extend_from_slice(features);
            next
        });
        column_of.push(column);
    }
    (DMatrix::from_vec(feature_dim, columns.len(), data), column_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_states_share_a_column_in_order_of_first_appearance() {
        let states: [&[f32]; 5] = [&[1.0, 0.0], &[0.0, 1.0], &[1.0, 0.0], &[-0.0, 1.0], &[0.0, 1.0]];
        let (features, column_of) = distinct_feature_matrix(2, states.into_iter());
        assert_eq!(column_of, [0, 1, 0, 2, 1]);
        // -0.0 and 0.0 differ in bits: kept apart (a feature map may treat them differently).
        assert_eq!(features.shape(), (2, 3));
        assert_eq!(features.as_slice(), &[1.0, 0.0, 0.0, 1.0, -0.0, 1.0]);
    }

    #[test]
    fn no_states_and_empty_features() {
        let (features, column_of) = distinct_feature_matrix(3, std::iter::empty::<&[f32]>());
        assert_eq!((features.shape(), column_of.len()), ((3, 0), 0));
        let states: [&[f32]; 3] = [&[], &[], &[]];
        let (features, column_of) = distinct_feature_matrix(0, states.into_iter());
        assert_eq!((features.shape(), column_of), ((0, 1), vec![0, 0, 0]));
    }
}
