//! Bit-parallel Fitch parsimony over compressed site patterns.
//!
//! A node's state sets are stored as five bit-planes (A, C, G, T, gap) per 64-pattern word, so one
//! merge handles 64 patterns with a handful of word operations:
//!
//! `i_s = a_s & b_s`, `empty = !(i_A | i_C | i_G | i_T | i_gap)`, `out_s = i_s | (empty & (a_s | b_s))`,
//!
//! and the weighted mutation count is the sum of the pattern weights over the bits of `empty`.
//! Padding patterns of the last word hold all five states, so they never cost anything.

use super::alignment::{Alignment, MissingCoding};

/// The number of parsimony states (A, C, G, T, gap).
pub const FITCH_STATES: usize = 5;

/// The Fitch state sets of one node over all site patterns; see the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FitchSet {
    /// `planes[word * FITCH_STATES + state]`: bit `p` is set when state `state` is in the set of
    /// pattern `64 * word + p`.
    planes: Vec<u64>,
    pattern_count: usize,
}

impl FitchSet {
    /// The state sets of leaf `taxon` of `alignment`, with missing data coded by `missing`.
    pub fn leaf(alignment: &Alignment, taxon: usize, missing: MissingCoding) -> FitchSet {
        let pattern_count = alignment.pattern_count();
        let words = pattern_count.div_ceil(64);
        let mut planes = vec![0u64; words * FITCH_STATES];
        for (p, mask) in alignment.parsimony_masks(taxon, missing).enumerate() {
            for s in 0..FITCH_STATES {
                planes[(p / 64) * FITCH_STATES + s] |= u64::from(mask >> s & 1) << (p % 64);
            }
        }
        let padding = !0u64 << (pattern_count % 64);
        if !pattern_count.is_multiple_of(64) {
            for s in 0..FITCH_STATES {
                planes[(words - 1) * FITCH_STATES + s] |= padding;
            }
        }
        FitchSet { planes, pattern_count }
    }

    /// The Fitch merge of two children: the state sets of their parent and the weighted number of
    /// mutations the merge adds (`weights` are the pattern weights).
    pub fn merge(a: &FitchSet, b: &FitchSet, weights: &[f64]) -> (FitchSet, f64) {
        debug_assert_eq!(a.pattern_count, b.pattern_count);
        debug_assert_eq!(weights.len(), a.pattern_count);
        let mut planes = vec![0u64; a.planes.len()];
        let mut cost = 0.0;
        for (w, ((pa, pb), out)) in a
            .planes
            .chunks_exact(FITCH_STATES)
            .zip(b.planes.chunks_exact(FITCH_STATES))
            .zip(planes.chunks_exact_mut(FITCH_STATES))
            .enumerate()
        {
            let mut any = 0u64;
            for s in 0..FITCH_STATES {
                out[s] = pa[s] & pb[s];
                any |= out[s];
            }
            let empty = !any;
            if empty != 0 {
                for s in 0..FITCH_STATES {
                    out[s] |= empty & (pa[s] | pb[s]);
                }
                let mut bits = empty;
                while bits != 0 {
                    cost += weights[w * 64 + bits.trailing_zeros() as usize];
                    bits &= bits - 1;
                }
            }
        }
        (FitchSet { planes, pattern_count: a.pattern_count }, cost)
    }

    /// The number of site patterns.
    pub fn pattern_count(&self) -> usize {
        self.pattern_count
    }

    /// The 5-bit state set (A, C, G, T, gap = bits 0–4) of pattern `pattern`.
    pub fn state_set(&self, pattern: usize) -> u8 {
        let base = (pattern / 64) * FITCH_STATES;
        (0..FITCH_STATES).fold(0u8, |acc, s| acc | (((self.planes[base + s] >> (pattern % 64)) & 1) as u8) << s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phylo::alignment::tests::alignment;

    /// Scalar Fitch on explicit 5-bit sets, as the reference.
    fn scalar_merge(a: &[u8], b: &[u8], weights: &[f64]) -> (Vec<u8>, f64) {
        let mut cost = 0.0;
        let sets = a
            .iter()
            .zip(b)
            .zip(weights)
            .map(|((&x, &y), &w)| {
                if x & y != 0 {
                    x & y
                } else {
                    cost += w;
                    x | y
                }
            })
            .collect();
        (sets, cost)
    }

    #[test]
    fn merges_match_scalar_fitch_across_word_boundaries() {
        // 4 taxa, 150 sites over a pseudo-random mix of characters: > 2 words of patterns.
        let chars = b"ACGT-?NRY";
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let rows: Vec<String> = (0..4)
            .map(|_| {
                (0..150)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        chars[(x % chars.len() as u64) as usize] as char
                    })
                    .collect()
            })
            .collect();
        let a = alignment(&[("a", &rows[0]), ("b", &rows[1]), ("c", &rows[2]), ("d", &rows[3])]);
        assert!(a.pattern_count() > 128);
        for missing in [MissingCoding::AllStates, MissingCoding::Nucleotides] {
            let leaf = |t| FitchSet::leaf(&a, t, missing);
            let scalar = |t| a.parsimony_masks(t, missing).collect::<Vec<_>>();
            let (ab, c1) = FitchSet::merge(&leaf(0), &leaf(1), a.weights());
            let (cd, c2) = FitchSet::merge(&leaf(2), &leaf(3), a.weights());
            let (root, c3) = FitchSet::merge(&ab, &cd, a.weights());
            let (sab, s1) = scalar_merge(&scalar(0), &scalar(1), a.weights());
            let (scd, s2) = scalar_merge(&scalar(2), &scalar(3), a.weights());
            let (sroot, s3) = scalar_merge(&sab, &scd, a.weights());
            assert_eq!((c1, c2, c3), (s1, s2, s3));
            assert!(c1 + c2 + c3 > 0.0);
            let sets: Vec<u8> = (0..a.pattern_count()).map(|p| root.state_set(p)).collect();
            assert_eq!(sets, sroot);
        }
    }

    #[test]
    fn hand_computed_score() {
        // ((a,b),c) over sites: AAC / AGG / A-A, weights merge the two identical first columns.
        let a = alignment(&[("a", "AAAC"), ("b", "AAGG"), ("c", "AA-A")]);
        let leaf = |t| FitchSet::leaf(&a, t, MissingCoding::AllStates);
        let (ab, c1) = FitchSet::merge(&leaf(0), &leaf(1), a.weights());
        // Column AAA: 0; ACG (site 3: a=A, b=G, c=-): a∧b = ∅ (+1), {A,G}∧{-} = ∅ (+1);
        // site 4: C, G, A: +1, +1.
        let (_, c2) = FitchSet::merge(&ab, &leaf(2), a.weights());
        assert_eq!((c1, c2), (2.0, 2.0));
        assert_eq!(ab.state_set(1), 0b0_0101);
    }
}
