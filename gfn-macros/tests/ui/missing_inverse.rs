use gfn_core::{Action, State, environment};

struct Line;

#[derive(Clone, Debug, PartialEq, Eq, Hash, State)]
struct Pos {
    #[state(range = 0..4)]
    x: u8,
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
        Pos { x: 0 }
    }
    fn allowed(&self, s: &Pos, a: Move) -> bool {
        matches!(a, Move::Stop) || s.x < 3
    }
    fn apply(&self, s: &mut Pos, _: Move) {
        s.x += 1;
    }
    fn can_revert(&self, s: &Pos, a: Move) -> bool {
        matches!(a, Move::Right) && s.x > 0
    }
    fn revet(&self, s: &mut Pos, _: Move) {
        s.x -= 1;
    }
    fn log_reward(&self, _: &Pos) -> f64 {
        0.0
    }
}

fn main() {
    // No cascade: the stub impl keeps uses of the environment compiling.
    use gfn_core::env::Environment;
    let _ = Line.action_count();
}
