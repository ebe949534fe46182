use gfn_core::Action;

#[derive(Clone, Copy, Debug, Action)]
enum Move {
    Right,
    #[action(exit)]
    Stop,
    #[action(exit)]
    Quit,
}

fn main() {}
