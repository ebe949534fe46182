//! Procedural macros of the `gfn` framework: the environment DSL.
//!
//! A GFlowNet environment is declared with three macros, used through `gfn_core` (or the `gfn`
//! facade), never from this crate directly:
//!
//! - [`macro@State`] on the state struct generates its feature encoding;
//! - [`macro@Action`] on the action enum generates the flat action index;
//! - [`macro@environment`] on an `impl` block with the domain logic (`source`, `allowed`,
//!   `apply`, `can_revert`, `revert`, `log_reward`) generates the `Environment` impl: masks,
//!   checked steps in both directions, encoding, and `Enumerable` on request.
//!
//! ```
//! use gfn_core::{Action, State, environment};
//!
//! /// Pick `size` distinct items out of `pool`, one per step.
//! struct Subsets { pool: usize, size: usize }
//!
//! #[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
//! #[state(env = Subsets)]
//! struct Picked {
//!     #[state(bits = env.pool)]
//!     items: u64,
//! }
//!
//! #[derive(Clone, Copy, Debug, PartialEq, Eq, Action)]
//! #[action(env = Subsets)]
//! enum Pick {
//!     Add { #[action(range = 0..env.pool)] item: u8 },
//!     #[action(exit)]
//!     Done,
//! }
//!
//! #[environment(state = Picked, action = Pick, enumerable)]
//! impl Subsets {
//!     fn source(&self) -> Picked { Picked { items: 0 } }
//!     fn allowed(&self, s: &Picked, a: Pick) -> bool {
//!         let full = s.items.count_ones() as usize == self.size;
//!         match a {
//!             Pick::Add { item } => !full && s.items & (1 << item) == 0,
//!             Pick::Done => full,
//!         }
//!     }
//!     fn apply(&self, s: &mut Picked, a: Pick) {
//!         if let Pick::Add { item } = a { s.items |= 1 << item }
//!     }
//!     fn can_revert(&self, s: &Picked, a: Pick) -> bool {
//!         matches!(a, Pick::Add { item } if s.items & (1 << item) != 0)
//!     }
//!     fn revert(&self, s: &mut Picked, a: Pick) {
//!         if let Pick::Add { item } = a { s.items &= !(1 << item) }
//!     }
//!     fn log_reward(&self, s: &Picked) -> f64 { f64::from(s.items.trailing_zeros()) }
//! }
//!
//! let env = Subsets { pool: 5, size: 2 };
//! gfn_core::check::assert_environment_conforms(&env);
//! use gfn_core::env::{Enumerable, Environment};
//! assert_eq!(env.action_count(), 6);
//! assert_eq!(env.state_graph().unwrap().terminals().count(), 10);
//! ```
//!
//! Design (see `STYLE.md` §1): each macro parses into a borrowed IR (`ast.rs`, `attr.rs`),
//! validates it into a plan (`valid.rs`) collecting every error, and expands the plan
//! (`expand/`); on error, `fallback.rs` emits the errors plus stub impls.

mod ast;
mod attr;
mod expand;
mod fallback;
mod paths;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `gfn_core::env::State`: the feature encoding of a state struct.
///
/// The encoding concatenates the fields in declaration order:
///
/// | field | attribute | slots |
/// |---|---|---|
/// | `bool` | – | 1 (`0` or `1`) |
/// | `f32`, `f64` | – | 1 (the value) |
/// | integer | `#[state(range = lo..hi)]` | `hi - lo`, one-hot (`lo..=hi` also works) |
/// | integer | `#[state(range = lo..hi, scalar)]` | 1, `(v - lo) / (hi - 1 - lo)` in `[0, 1]` |
/// | integer | `#[state(bits = n)]` | `n`, bit `i` in slot `i` (a bit set) |
/// | `[T; N]` | attributes of `T` | `N` times those of `T` |
/// | `Vec<T>` | `#[state(len = n)]` + attributes of `T` | `n` times those of `T`; missing trailing elements stay zero |
/// | any other type | – | its own `State` encoding (nested states) |
/// | any | `#[state(skip)]` | 0 |
///
/// Sizes (`hi`, `n`, `len`) are constant expressions, or read the environment as `env` after
/// `#[state(env = MyEnv)]` on the struct: `#[state(len = env.length, range = 0..env.vocab)]`.
/// Without `env = ..`, the impl is generic over every environment.
/// `#[state(crate = "path")]` names the runtime crate if it cannot be found in `Cargo.toml`.
///
/// ```
/// use gfn_core::State;
/// use gfn_core::env::State as _;
///
/// #[derive(State)]
/// struct Cell {
///     #[state(range = 0..3)]
///     row: u8,
///     #[state(range = 1..=4, scalar)]
///     level: u8,
///     occupied: [bool; 2],
///     #[state(skip)]
///     cached: u64,
/// }
///
/// let cell = Cell { row: 1, level: 4, occupied: [true, false], cached: 7 };
/// let mut out = vec![0.0; <Cell as gfn_core::env::State<()>>::feature_dim(&())];
/// cell.encode_into(&(), &mut out);
/// assert_eq!(out, [0.0, 1.0, 0.0, 1.0, 1.0, 0.0]);
/// ```
#[proc_macro_derive(State, attributes(state))]
pub fn derive_state(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::state::derive(&input).into()
}

/// Derives `gfn_core::env::Action`: the flat index space of an action enum.
///
/// - exactly one unit variant carries `#[action(exit)]`: the action that ends a trajectory;
/// - payload fields are `bool` (two values) or integers with `#[action(range = lo..hi)]`
///   (or `lo..=hi`); bounds are constants, or read the environment as `env` after
///   `#[action(env = MyEnv)]` on the enum (`#[action(range = 0..env.ndim)]`);
/// - variants take consecutive indices in declaration order; a variant with payload takes one
///   index per combination of values, first field most significant;
/// - when every bound is a constant, the enum also gets an inherent `COUNT` constant.
///
/// Actions are passed by value to the domain methods, so the enum must be `Copy` (and `Debug`).
///
/// ```
/// use gfn_core::Action;
/// use gfn_core::env::Action as _;
///
/// #[derive(Clone, Copy, Debug, PartialEq, Action)]
/// enum Edit {
///     Set { #[action(range = 0..4)] pos: u8, bit: bool },
///     #[action(exit)]
///     Stop,
/// }
///
/// assert_eq!(Edit::COUNT, 9);
/// let set = Edit::Set { pos: 2, bit: true };
/// assert_eq!(set.index(&()), 5);
/// assert_eq!(Edit::from_index(5, &()), Some(set));
/// assert_eq!(Edit::exit_index(&()), 8);
/// assert_eq!(Edit::from_index(9, &()), None);
/// ```
#[proc_macro_derive(Action, attributes(action))]
pub fn derive_action(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::action::derive(&input).into()
}

/// Turns an `impl` block of domain logic into a `gfn_core::env::Environment` impl.
///
/// Arguments: `state = S` (a type with [`macro@State`]), `action = A` (a type with
/// [`macro@Action`]), optionally `name = "..."` (default: the type's name in snake case),
/// `enumerable` (also implement `Enumerable`) and `crate = "path"`.
///
/// The block must define these methods (it may define others; all stay inherent methods):
///
/// | method | meaning |
/// |---|---|
/// | `fn source(&self) -> S` | the source state `s0` |
/// | `fn allowed(&self, state: &S, action: A) -> bool` | the forward mask; for the exit action: whether `state` may end a trajectory |
/// | `fn apply(&self, state: &mut S, action: A)` | a forward step (never called with exit or a disallowed action) |
/// | `fn can_revert(&self, state: &S, action: A) -> bool` | the backward mask: whether `state` can have been reached by `action` |
/// | `fn revert(&self, state: &mut S, action: A)` | the inverse of `apply` (only called where `can_revert` holds) |
/// | `fn log_reward(&self, state: &S) -> f64` | `log R(x)` of a state that may exit; finite or `-inf` |
/// | `fn signature(&self) -> String` (optional) | the checkpoint signature, e.g. with the config |
///
/// The generated `step` and `backward_step` reject unknown, exit and masked action indices with
/// `Error::InvalidAction`; masks call `allowed` / `can_revert` once per action, without
/// allocating. The uniform backward policy follows from the backward mask. Check the result with
/// `gfn_core::check::check_environment`.
///
/// ```
/// use gfn_core::{Action, State, environment};
///
/// /// Walk right on a line of `len` cells; stop anywhere.
/// struct Line { len: u8 }
///
/// #[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
/// #[state(env = Line)]
/// struct Pos { #[state(range = 0..env.len)] x: u8 }
///
/// #[derive(Clone, Copy, Debug, Action)]
/// enum Move { Right, #[action(exit)] Stop }
///
/// #[environment(state = Pos, action = Move, name = "line")]
/// impl Line {
///     fn source(&self) -> Pos { Pos { x: 0 } }
///     fn allowed(&self, s: &Pos, a: Move) -> bool {
///         matches!(a, Move::Stop) || s.x + 1 < self.len
///     }
///     fn apply(&self, s: &mut Pos, _: Move) { s.x += 1 }
///     fn can_revert(&self, s: &Pos, a: Move) -> bool { matches!(a, Move::Right) && s.x > 0 }
///     fn revert(&self, s: &mut Pos, _: Move) { s.x -= 1 }
///     fn log_reward(&self, s: &Pos) -> f64 { f64::from(s.x) }
/// }
///
/// use gfn_core::env::Environment;
/// let env = Line { len: 4 };
/// let mut s = env.source();
/// env.step(&mut s, 0).unwrap();
/// assert_eq!(s, Pos { x: 1 });
/// assert!(env.step(&mut s, 1).is_err(), "exit has no child");
/// let mut mask = [false; 2];
/// env.backward_mask(&s, &mut mask);
/// assert_eq!(mask, [true, false]);
/// gfn_core::check::assert_environment_conforms(&env);
/// ```
#[proc_macro_attribute]
pub fn environment(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::environment::attribute(args.into(), item.into()).into()
}
