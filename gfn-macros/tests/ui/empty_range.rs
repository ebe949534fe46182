use gfn_core::Action;

#[derive(Clone, Copy, Debug, Action)]
enum Move {
    Add {
        #[action(range = 3..3)]
        item: u8,
    },
    #[action(exit)]
    Stop,
}

fn main() {}
