use gfn_core::environment;

struct Line;

#[environment(action = Move, enumerabel)]
impl Line {}

#[environment(state = (), action = ())]
struct NotAnImpl;

fn main() {}
