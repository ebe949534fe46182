use gfn_core::Action;

#[derive(Clone, Copy, Debug, Action)]
enum Move {
    Add { item: usize },
    #[action(exit)]
    Stop,
}

fn main() {}
