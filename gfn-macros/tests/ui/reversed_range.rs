use gfn_core::State;

#[derive(State)]
struct Pos {
    #[state(range = 8..2)]
    x: u8,
}

fn main() {}
