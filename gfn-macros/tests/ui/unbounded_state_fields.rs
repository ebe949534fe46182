use gfn_core::State;

#[derive(State)]
struct Pos {
    x: u8,
    tokens: Vec<bool>,
    #[state(scalar)]
    level: u8,
    #[state(range = 0..2)]
    done: bool,
    #[state(skip, bits = 4)]
    cache: u8,
}

fn main() {}
