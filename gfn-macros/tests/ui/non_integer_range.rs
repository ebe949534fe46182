use gfn_core::Action;

#[derive(Clone, Copy, Debug, Action)]
enum Move {
    Shift {
        #[action(range = 0.0..1.5)]
        by: u8,
    },
    #[action(exit)]
    Stop,
}

fn main() {}
