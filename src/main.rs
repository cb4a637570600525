//! The `stackaudit` binary: `server` (LSP over stdio), `check`, `rules`, `rule <id>`.

// jemalloc, as Ruff's own binary uses on Linux: a cold `check` of Django parses and
// drops ~13 MB of trees, and the system allocator cost a sixth of its time
// (BENCHMARKS.md); the server's memory stays within its budget.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use stackaudit::cli::check::{CheckOptions, load_settings, run_check};
use stackaudit::cli::output::{write_json, write_text};
use stackaudit::cli::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, list_rules, show_rule};

#[derive(Parser)]
#[command(
    name = "stackaudit",
    version,
    about = "Audit full-stack web projects: a language server and a CLI"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Speak the Language Server Protocol on stdin/stdout.
    Server,
    /// Audit files and directories (default: the current directory).
    Check {
        paths: Vec<PathBuf>,
        /// Apply safe fixes in place.
        #[arg(long)]
        fix: bool,
        /// With --fix, apply unsafe fixes too.
        #[arg(long, requires = "fix")]
        unsafe_fixes: bool,
        #[arg(long, value_enum, default_value = "text")]
        output_format: OutputFormat,
        /// Only these rules (comma-separated ids), instead of the configured set.
        #[arg(long, value_delimiter = ',')]
        select: Option<Vec<String>>,
        /// Skip these rules (comma-separated ids).
        #[arg(long, value_delimiter = ',')]
        ignore: Option<Vec<String>>,
        /// Neither read nor write the cache (`.stackaudit_cache/` at the project root).
        #[arg(long)]
        no_cache: bool,
    },
    /// List every rule with its languages, default severity and fix.
    Rules,
    /// Print a rule's documentation.
    Rule { id: String },
}

fn main() -> ExitCode {
    // A panic is a bug: report it in one line, never a backtrace. A rule's panic is
    // caught and reported by the audit, once per rule.
    std::panic::set_hook(Box::new(|info| {
        if !stackaudit::audit::panic_is_reported_by_audit(info) {
            tracing::error!("internal error: {info}");
        }
    }));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STACKAUDIT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    // Every thread that audits Python gets the stack its trees may need
    // (`python_ast::AUDIT_STACK_BYTES`): this one, rayon's and tokio's workers.
    let stack = stackaudit::syntax::python_ast::AUDIT_STACK_BYTES;
    if let Err(error) = rayon::ThreadPoolBuilder::new()
        .stack_size(stack)
        .build_global()
    {
        tracing::warn!(%error, "rayon's threads keep their default stack");
    }
    let outcome = std::thread::Builder::new()
        .name("stackaudit".into())
        .stack_size(stack)
        .spawn(move || run(cli.command))
        .map_err(|error| format!("cannot start a thread: {error}"))
        .and_then(|thread| {
            thread
                .join()
                .map_err(|_| "internal error: the main thread panicked".to_string())?
        });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("stackaudit: error: {message}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(command: Command) -> Result<u8, String> {
    let mut stdout = std::io::stdout().lock();
    match command {
        Command::Server => {
            drop(stdout); // stdout belongs to the protocol now
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_stack_size(stackaudit::syntax::python_ast::AUDIT_STACK_BYTES)
                .build()
                .map_err(|error| format!("cannot start the runtime: {error}"))?;
            stackaudit::server::widen_stdout_pipe();
            let clean = runtime.block_on(stackaudit::server::serve(
                tokio::io::stdin(),
                tokio::io::stdout(),
            ));
            // The stdin reader may still be blocked in a read on its own thread: do not
            // wait for it, the client is done with us.
            runtime.shutdown_background();
            Ok(if clean { EXIT_CLEAN } else { EXIT_FINDINGS })
        }
        Command::Check {
            paths,
            fix,
            unsafe_fixes,
            output_format,
            select,
            ignore,
            no_cache,
        } => {
            let options = CheckOptions {
                paths,
                fix,
                unsafe_fixes,
                select,
                ignore,
                no_cache,
            };
            let (settings, root) = load_settings(&options)?;
            let report = run_check(&options, &settings, &root)?;
            // One write per buffer, not per line (stdout flushes at each line break).
            let mut buffered = std::io::BufWriter::new(&mut stdout);
            let written = match output_format {
                OutputFormat::Text => write_text(&report, &mut buffered),
                OutputFormat::Json => write_json(&report, &mut buffered),
            };
            let written = written.and_then(|()| buffered.flush());
            drop(buffered);
            match written.and_then(|()| stdout.flush()) {
                // `stackaudit check | head`: the reader left; that is not an error.
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(error) => return Err(format!("cannot write the report: {error}")),
                Ok(()) => {}
            }
            let has_findings = report.files.iter().any(|file| !file.findings.is_empty());
            Ok(if has_findings {
                EXIT_FINDINGS
            } else {
                EXIT_CLEAN
            })
        }
        Command::Rules => {
            list_rules(&mut stdout).map_err(|error| error.to_string())?;
            Ok(EXIT_CLEAN)
        }
        Command::Rule { id } => {
            show_rule(&id, &mut stdout)?;
            Ok(EXIT_CLEAN)
        }
    }
}
