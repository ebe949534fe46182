//! Input checks shared by the objectives: array shapes and finiteness.

use super::TrajectoryTerms;
use crate::{Error, Result};

/// Rejects NaN and `±inf`, naming the term and its index.
pub(crate) fn finite(term: &str, index: usize, value: f64) -> Result<f64> {
    if value.is_finite() { Ok(value) } else { Err(Error::NonFinite { what: format!("{term}[{index}]"), value }) }
}

/// Checks that `len` is `expected`, naming the array in `op`.
pub(crate) fn length(op: &'static str, expected: usize, len: usize) -> Result<()> {
    if len == expected { Ok(()) } else { Err(Error::ShapeMismatch { op, expected: (expected, 1), got: (len, 1) }) }
}

/// Checks CSR offsets over `items` entries (at least one offset, starting at 0, ending at `items`,
/// never decreasing) and returns the first empty group, if any.
pub(crate) fn csr(field: &'static str, offsets: &[usize], items: usize) -> Result<Option<usize>> {
    let (Some(&first), Some(&last)) = (offsets.first(), offsets.last()) else {
        return Err(Error::config(field, "[]", "CSR offsets need at least one entry"));
    };
    if first != 0 || last != items {
        return Err(Error::config(
            field,
            format!("[{first}, .., {last}]"),
            format!("offsets must start at 0 and end at the entry count {items}"),
        ));
    }
    if let Some(w) = offsets.windows(2).find(|w| w[1] < w[0]) {
        return Err(Error::config(field, format!("{}..{}", w[0], w[1]), "reversed range"));
    }
    Ok(offsets.windows(2).position(|w| w[1] == w[0]))
}

/// Checks the layout every trajectory objective relies on: valid offsets (every trajectory has at
/// least its exit step), `log_pb` with one entry per step and `log_reward` with one per trajectory.
pub(crate) fn layout(terms: &TrajectoryTerms<'_>) -> Result<()> {
    if terms.offsets.len() < 2 {
        return Err(Error::config("offsets", format!("{:?}", terms.offsets), "the batch is empty"));
    }
    if let Some(i) = csr("offsets", terms.offsets, terms.step_count())? {
        return Err(Error::config(
            "offsets",
            format!("{}..{}", terms.offsets[i], terms.offsets[i + 1]),
            format!("trajectory {i} has no steps; every trajectory needs its exit step"),
        ));
    }
    length("TrajectoryTerms::log_pb", terms.step_count(), terms.log_pb.len())?;
    length("TrajectoryTerms::log_reward", terms.batch_size(), terms.log_reward.len())
}

/// A required per-step array, checked for presence and length (not for finiteness).
pub(crate) fn per_step<'a>(
    name: &'static str,
    array: Option<&'a [f64]>,
    terms: &TrajectoryTerms<'_>,
) -> Result<&'a [f64]> {
    let array = array.ok_or_else(|| Error::config(name, "None", "this objective requires it"))?;
    length(name, terms.step_count(), array.len())?;
    Ok(array)
}

/// The learned `log Z`, which must be present and finite.
pub(crate) fn log_z(terms: &TrajectoryTerms<'_>) -> Result<f64> {
    let log_z = terms.log_z.ok_or_else(|| Error::config("log_z", "None", "this objective requires log Z"))?;
    if log_z.is_finite() { Ok(log_z) } else { Err(Error::NonFinite { what: "log_z".into(), value: log_z }) }
}

/// `(log P_F, log P_B)` of step `t`, both checked finite; the `log P_B` of an exit step is not read
/// and counts as `0` (`P_B(s_n | s_f) = 1`).
pub(crate) fn step(terms: &TrajectoryTerms<'_>, t: usize, exit: bool) -> Result<(f64, f64)> {
    let log_pf = finite("log_pf", t, terms.log_pf[t])?;
    let log_pb = if exit { 0.0 } else { finite("log_pb", t, terms.log_pb[t])? };
    Ok((log_pf, log_pb))
}
