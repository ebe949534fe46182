use gfn_core::State;

#[derive(State)]
enum Cell {
    Empty,
    Full,
}

fn main() {}
