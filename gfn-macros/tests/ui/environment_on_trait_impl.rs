use gfn_core::environment;

struct Line;

#[environment(state = u8, action = u8)]
impl Default for Line {
    fn default() -> Self {
        Line
    }
}

fn main() {}
