use gfn_core::Action;

#[derive(Clone, Copy, Debug, Action)]
struct Move {
    dx: i8,
}

fn main() {}
