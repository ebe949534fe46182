//! Typed states and actions: the traits behind `#[derive(State)]` and `#[derive(Action)]`.
//!
//! The engine works with `usize` action indices and `f32` feature vectors. User environments
//! work with their own structs and enums. These two traits connect both worlds:
//!
//! - [`Action`] maps an action enum onto the flat index space `0..count(env)` and back;
//! - [`State`] writes the features of a state struct into a slice.
//!
//! Both are generic over the environment type `E`, because sizes may be runtime parameters of the
//! environment (the dimension of a grid, the length of a sequence). Types whose sizes are all
//! compile-time constants implement the traits for every `E`.

use std::fmt::Debug;

/// An action enum with a flat index space, usually derived with `#[derive(Action)]`.
///
/// Variants are laid out in declaration order; a variant with payload fields takes one index per
/// combination of payload values (mixed radix, first field most significant). Exactly one unit
/// variant is the *exit* action.
pub trait Action<E: ?Sized>: Copy + Debug {
    /// The number of actions in the environment `env`, exit included.
    fn count(env: &E) -> usize;
    /// The flat index of this action, in `0..count(env)`.
    fn index(&self, env: &E) -> usize;
    /// The action with flat index `index`, or `None` outside `0..count(env)`.
    fn from_index(index: usize, env: &E) -> Option<Self>;
    /// The exit action.
    fn exit() -> Self;
    /// Whether this is the exit action.
    fn is_exit(&self) -> bool;
    /// The flat index of the exit action.
    #[inline]
    fn exit_index(env: &E) -> usize {
        Self::exit().index(env)
    }
    /// Calls `f(index, action)` for every action of `env`, in index order.
    #[inline]
    fn for_each(env: &E, mut f: impl FnMut(usize, Self)) {
        for i in 0..Self::count(env) {
            if let Some(action) = Self::from_index(i, env) {
                f(i, action);
            }
        }
    }
}

/// A state with a fixed-length feature encoding, usually derived with `#[derive(State)]`.
///
/// Implemented here for `bool` (one slot, `0` or `1`), `f32` and `f64` (one slot, the value) and
/// arrays of encodable elements (the elements' encodings, concatenated).
pub trait State<E: ?Sized> {
    /// The length of the encoding in the environment `env`.
    fn feature_dim(env: &E) -> usize;
    /// Writes the features of `self` into `out` (`out.len() == feature_dim(env)`, zeroed by the
    /// caller).
    fn encode_into(&self, env: &E, out: &mut [f32]);
}

impl<E: ?Sized> State<E> for bool {
    #[inline]
    fn feature_dim(_: &E) -> usize {
        1
    }
    #[inline]
    fn encode_into(&self, _: &E, out: &mut [f32]) {
        out[0] = f32::from(u8::from(*self));
    }
}

impl<E: ?Sized> State<E> for f32 {
    #[inline]
    fn feature_dim(_: &E) -> usize {
        1
    }
    #[inline]
    fn encode_into(&self, _: &E, out: &mut [f32]) {
        out[0] = *self;
    }
}

impl<E: ?Sized> State<E> for f64 {
    #[inline]
    fn feature_dim(_: &E) -> usize {
        1
    }
    #[inline]
    fn encode_into(&self, _: &E, out: &mut [f32]) {
        // Features are f32 by design (DESIGN.md §5); the narrowing is intended.
        #[allow(clippy::cast_possible_truncation, reason = "features are f32")]
        let value = *self as f32;
        out[0] = value;
    }
}

impl<E: ?Sized, T: State<E>, const N: usize> State<E> for [T; N] {
    #[inline]
    fn feature_dim(env: &E) -> usize {
        N * T::feature_dim(env)
    }
    #[inline]
    fn encode_into(&self, env: &E, out: &mut [f32]) {
        let dim = T::feature_dim(env);
        for (item, chunk) in self.iter().zip(out.chunks_exact_mut(dim.max(1))) {
            item.encode_into(env, &mut chunk[..dim]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitive_encodings() {
        let mut out = [0.0f32; 3];
        [true, false, true].encode_into(&(), &mut out);
        assert_eq!(out, [1.0, 0.0, 1.0]);
        assert_eq!(<[bool; 3] as State<()>>::feature_dim(&()), 3);
        let mut one = [0.0f32];
        2.5f64.encode_into(&(), &mut one);
        assert_eq!(one, [2.5]);
    }
}
