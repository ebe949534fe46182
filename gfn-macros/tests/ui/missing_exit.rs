use gfn_core::Action;

#[derive(Clone, Copy, Debug, Action)]
enum Move {
    Right,
    Up,
    Stop,
}

fn main() {}
