//! `berth`: with no arguments the TUI, with a command the Docker-style CLI, and `berth monitor`
//! (hidden) the per-container monitor process.

use std::process::ExitCode;

fn main() -> ExitCode {
    berth::engine::trace::phase("main");
    let cli = match berth::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return exit(code),
    };
    berth::cli::die_on_sigpipe(&cli);
    berth::cli::init_tracing(cli.debug);
    // The monitor must never run inside a multi-threaded process: dispatch it before any runtime
    // exists.
    if let Some(code) = berth::cli::run_without_runtime(&cli) {
        return exit(code);
    }
    if cli.command.is_none() {
        berth::tui::lean_malloc();
    }
    berth::cli::prespawn(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::from(125);
        }
    };
    let code = runtime.block_on(berth::cli::run(cli));
    // Do not wait for stray blocking tasks (e.g. a stdin reader) on the way out.
    runtime.shutdown_background();
    berth::cli::finish();
    berth::engine::trace::phase("exit");
    exit(code)
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(125))
}
