use gfn_core::Action;

#[derive(Clone, Copy, Debug, Action)]
enum Move {
    Right,
    #[action(exit)]
    Stop { #[action(range = 0..2)] code: u8 },
}

fn main() {}
