use gfn_core::State;

#[derive(State)]
struct Pos {
    #[state(len = env.ndim, range = 0..8)]
    coords: Vec<u8>,
}

fn main() {}
