use gfn_core::Action;

#[derive(Clone, Copy, Debug, Action)]
enum Move {
    Add {
        #[action(range = 0..4, range = 0..5)]
        item: u8,
    },
    #[action(exit)]
    Stop,
}

fn main() {}
