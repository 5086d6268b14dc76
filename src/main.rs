//! The `refmatch` command line: declares the commands ([`cli`]) and runs
//! the one asked for. Everything it does is a call into the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
