//! Shared mechanics of append-only token sequences (a tree DAG): bit sequences and token sequences.

use gfn_core::{Error, Result};

/// Appends `token` to `s` if it has room (`max_len`) and the token is in the vocabulary.
pub(crate) fn append(s: &mut Vec<u8>, token: usize, vocab: usize, max_len: usize) -> Result<()> {
    if token >= vocab || s.len() >= max_len {
        return Err(Error::InvalidAction {
            action: token,
            state: format!("{s:?}"),
            reason: format!("cannot append token {token} (vocabulary {vocab}, length {} of {max_len})", s.len()),
        });
    }
    s.push(token as u8);
    Ok(())
}

/// Removes the last token of `s` if it is `token`.
pub(crate) fn pop(s: &mut Vec<u8>, token: usize) -> Result<()> {
    if s.last().map(|&t| t as usize) != Some(token) {
        return Err(Error::InvalidAction {
            action: token,
            state: format!("{s:?}"),
            reason: "only the last token can be removed".into(),
        });
    }
    s.pop();
    Ok(())
}

/// Forward mask: any token while not full, only exit (index `vocab`) when full.
pub(crate) fn forward_mask(s: &[u8], vocab: usize, max_len: usize, mask: &mut [bool]) {
    let full = s.len() >= max_len;
    mask[..vocab].fill(!full);
    mask[vocab] = full;
}

/// Backward mask: the last token.
pub(crate) fn backward_mask(s: &[u8], mask: &mut [bool]) {
    if let Some(&t) = s.last() {
        mask[t as usize] = true;
    }
}
