use gfn_core::{Action, State, environment};

struct Line;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Opaque;

#[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
struct Pos {
    #[state(range = 0..4)]
    x: u8,
    extra: Opaque,
}

#[derive(Clone, Copy, Debug, Action)]
enum Move {
    Right,
    #[action(exit)]
    Stop,
}

#[environment(state = Pos, action = Move)]
impl Line {
    fn source(&self) -> Pos {
        Pos { x: 0, extra: Opaque }
    }
    fn allowed(&self, _: &Pos, _: Move) -> bool {
        true
    }
    fn apply(&self, _: &mut Pos, _: Move) {}
    fn can_revert(&self, _: &Pos, _: Move) -> bool {
        true
    }
    fn revert(&self, _: &Pos, _: Move) {}
    fn log_reward(&self, _: &Pos) -> f32 {
        0.0
    }
}

fn main() {}
