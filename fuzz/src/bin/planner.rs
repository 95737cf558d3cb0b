//! `scripts/fuzz planner`: AFL++ feeds inputs to `nslab_fuzz::planner`; a panic is a crash.

fn main() {
    afl::fuzz!(|data: &[u8]| nslab_fuzz::planner(data));
}
