//! Behaviour of the generated code: indexing round trips, encodings, masks, steps, conformance.

use gfn_core::check::{CheckOptions, assert_environment_conforms, check_environment};
use gfn_core::env::{Action as _, Enumerable, Environment, EnvironmentExt, State as _};
use gfn_core::{Action, Error, State, environment};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Action)]
enum Edit {
    Flip(#[action(range = 0..3)] u8),
    Set {
        #[action(range = -2..=2)]
        delta: i8,
        on: bool,
    },
    #[action(exit)]
    Stop,
    Noop,
}

#[test]
fn static_actions_round_trip() {
    assert_eq!(Edit::COUNT, 3 + 10 + 1 + 1);
    assert_eq!(<Edit as gfn_core::env::Action<()>>::count(&()), Edit::COUNT);
    for i in 0..Edit::COUNT {
        let action = Edit::from_index(i, &()).unwrap();
        assert_eq!(action.index(&()), i, "{action:?}");
    }
    assert_eq!(Edit::from_index(Edit::COUNT, &()), None);
    assert_eq!(Edit::Flip(2).index(&()), 2);
    assert_eq!(Edit::Set { delta: -2, on: false }.index(&()), 3);
    assert_eq!(Edit::Set { delta: -2, on: true }.index(&()), 4);
    assert_eq!(Edit::Set { delta: 2, on: true }.index(&()), 12);
    assert_eq!(Edit::exit_index(&()), 13);
    assert!(gfn_core::env::Action::<()>::is_exit(&Edit::Stop));
    assert!(!gfn_core::env::Action::<()>::is_exit(&Edit::Noop));
    let mut seen = Vec::new();
    Edit::for_each(&(), |i, a| seen.push((i, a)));
    assert_eq!(seen.len(), Edit::COUNT);
    assert_eq!(seen[14], (14, Edit::Noop));
}

struct Board {
    width: usize,
    colors: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Action)]
#[action(env = Board)]
enum Paint {
    #[action(exit)]
    Done,
    Cell {
        #[action(range = 0..env.width)]
        x: u32,
        #[action(range = 1..=env.colors)]
        color: u16,
    },
}

#[test]
fn runtime_actions_round_trip() {
    for (width, colors) in [(1, 1), (3, 2), (5, 7)] {
        let board = Board { width, colors };
        let count = Paint::count(&board);
        assert_eq!(count, 1 + width * usize::from(colors));
        for i in 0..count {
            assert_eq!(Paint::from_index(i, &board).unwrap().index(&board), i);
        }
        assert_eq!(Paint::from_index(count, &board), None);
        assert_eq!(Paint::exit_index(&board), 0);
    }
    let board = Board { width: 3, colors: 2 };
    assert_eq!(Paint::Cell { x: 1, color: 2 }.index(&board), 1 + 2 + 1);
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
struct Inner {
    #[state(range = 0..2)]
    side: u8,
    flag: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
#[state(env = Board)]
struct Canvas {
    #[state(len = env.width, range = 1..=env.colors)]
    cells: Vec<u16>,
    #[state(range = 0..4, scalar)]
    level: u8,
    #[state(bits = 5)]
    mask: u32,
    corners: [Inner; 2],
    #[state(range = -1..2)]
    tilt: [i8; 2],
    #[state(skip)]
    cache: u64,
}

#[test]
fn encodings_follow_the_attributes() {
    let board = Board { width: 3, colors: 2 };
    let dim = Canvas::feature_dim(&board);
    assert_eq!(dim, 3 * 2 + 1 + 5 + 2 * 3 + 2 * 3);
    let canvas = Canvas {
        cells: vec![2, 1],
        level: 2,
        mask: 0b10011,
        corners: [Inner { side: 1, flag: true }, Inner { side: 0, flag: false }],
        tilt: [-1, 1],
        cache: 99,
    };
    let mut out = vec![0.0; dim];
    canvas.encode_into(&board, &mut out);
    #[rustfmt::skip]
    let expected = [
        0.0, 1.0, 1.0, 0.0, 0.0, 0.0, // cells: 2, 1, (missing)
        2.0 / 3.0,                    // level
        1.0, 1.0, 0.0, 0.0, 1.0,      // mask bits
        0.0, 1.0, 1.0, 1.0, 0.0, 0.0, // corners
        1.0, 0.0, 0.0, 0.0, 0.0, 1.0, // tilt
    ];
    assert_eq!(out, expected);
}

/// Generic state structs get a generic impl.
#[derive(Clone, Debug, PartialEq, State)]
struct Pair<T> {
    first: T,
    second: T,
}

#[test]
fn generic_states_encode_their_parts() {
    let pair = Pair { first: 0.5f32, second: 2.0 };
    let mut out = [0.0; 2];
    pair.encode_into(&(), &mut out);
    assert_eq!(out, [0.5, 2.0]);
}

/// Permutations of `n` items, built by placing one unused item per step.
struct Perms {
    n: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
#[state(env = Perms)]
struct Order {
    #[state(len = env.n, range = 0..env.n)]
    items: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Action)]
#[action(env = Perms)]
enum Place {
    Item {
        #[action(range = 0..env.n)]
        item: u8,
    },
    #[action(exit)]
    Exit,
}

#[environment(state = Order, action = Place, enumerable)]
impl Perms {
    fn source(&self) -> Order {
        Order { items: Vec::new() }
    }
    fn allowed(&self, s: &Order, a: Place) -> bool {
        match a {
            Place::Item { item } => !s.items.contains(&item),
            Place::Exit => s.items.len() == self.n,
        }
    }
    fn apply(&self, s: &mut Order, a: Place) {
        if let Place::Item { item } = a {
            s.items.push(item);
        }
    }
    fn can_revert(&self, s: &Order, a: Place) -> bool {
        matches!(a, Place::Item { item } if s.items.last() == Some(&item))
    }
    fn revert(&self, s: &mut Order, _: Place) {
        s.items.pop();
    }
    fn log_reward(&self, s: &Order) -> f64 {
        -(s.items.iter().enumerate().filter(|(i, x)| usize::from(**x) != *i).count() as f64)
    }
}

#[test]
fn generated_environments_conform() {
    let env = Perms { n: 4 };
    assert_eq!(env.name(), "perms");
    assert_eq!((env.action_count(), env.exit_action(), env.feature_dim()), (5, 4, 16));
    let report = check_environment(&env, &CheckOptions::default()).unwrap();
    assert!(report.exhaustive);
    assert_eq!(report.terminals, 24);
    let graph = env.state_graph().unwrap();
    assert_eq!(graph.terminals().count(), 24);
}

#[test]
fn steps_reject_bad_indices_without_touching_the_state() {
    let env = Perms { n: 3 };
    let mut s = env.source();
    env.step(&mut s, 1).unwrap();
    let before = s.clone();
    for (action, reason) in [(1, "not allowed"), (3, "exit action"), (9, "outside the action space 0..4")] {
        match env.step(&mut s, action) {
            Err(Error::InvalidAction { reason: r, .. }) => assert!(r.contains(reason), "{r}"),
            other => panic!("expected an invalid action, got {other:?}"),
        }
        assert_eq!(s, before);
    }
    for (action, reason) in [(0, "cannot have led"), (3, "never a backward"), (9, "outside the action space 0..4")] {
        match env.backward_step(&mut s, action) {
            Err(Error::InvalidAction { reason: r, .. }) => assert!(r.contains(reason), "{r}"),
            other => panic!("expected an invalid action, got {other:?}"),
        }
        assert_eq!(s, before);
    }
    env.backward_step(&mut s, 1).unwrap();
    assert_eq!(s, env.source());
    assert_eq!(env.parents(&before).unwrap(), vec![(1, env.source())]);
    assert_eq!(env.children(&before).unwrap().len(), 2);
}

#[test]
fn masks_overwrite_stale_buffers() {
    let env = Perms { n: 3 };
    let s = Order { items: vec![2] };
    let mut mask = [true; 4];
    env.forward_mask(&s, &mut mask);
    assert_eq!(mask, [true, true, false, false]);
    env.backward_mask(&s, &mut mask);
    assert_eq!(mask, [false, false, true, false]);
}

/// Generic environments and the `crate` escape hatch.
struct Chain<T> {
    len: u8,
    tag: T,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
#[state(crate = "gfn_core")]
struct Link {
    #[state(range = 0..8)]
    at: u8,
}

#[derive(Clone, Copy, Debug, Action)]
#[action(crate = "gfn_core")]
enum Hop {
    Next,
    #[action(exit)]
    End,
}

#[environment(state = Link, action = Hop, name = "chain", crate = "gfn_core")]
impl<T: Send + Sync> Chain<T> {
    fn source(&self) -> Link {
        Link { at: 0 }
    }
    fn allowed(&self, s: &Link, a: Hop) -> bool {
        matches!(a, Hop::End) || s.at + 1 < self.len
    }
    fn apply(&self, s: &mut Link, _: Hop) {
        s.at += 1;
    }
    fn can_revert(&self, s: &Link, a: Hop) -> bool {
        matches!(a, Hop::Next) && s.at > 0
    }
    fn revert(&self, s: &mut Link, _: Hop) {
        s.at -= 1;
    }
    fn log_reward(&self, s: &Link) -> f64 {
        f64::from(s.at)
    }
    fn signature(&self) -> String {
        format!("chain:{}", self.len)
    }
}

#[test]
fn generic_environments_and_signatures() {
    let env = Chain { len: 5, tag: "x" };
    assert_eq!(env.tag, "x");
    assert_eq!(env.signature(), "chain:5");
    assert_eq!(Hop::COUNT, 2);
    assert_environment_conforms(&env);
}
