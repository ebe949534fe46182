use gfn_core::Action;

#[derive(Clone, Copy, Debug, Action)]
enum Move {
    Add {
        #[action(rnage = 0..4)]
        item: u8,
    },
    #[action(exti)]
    Stop,
}

fn main() {}
