use gfn_core::Action;

struct Grid {
    ndim: usize,
}

#[derive(Clone, Copy, Debug, Action)]
enum Move {
    Step {
        #[action(range = 0..self.ndim)]
        dim: usize,
    },
    #[action(exit)]
    Stop,
}

fn main() {
    let _ = Grid { ndim: 2 }.ndim;
}
