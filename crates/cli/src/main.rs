//! The `ferrule` command; see `ferrule help` and the README.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(ferrule_cli::run(args));
}
