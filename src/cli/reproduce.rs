//! `metalens reproduce mk1|mk2|DESIGN.toml`: library → layout → propagation → metrics in one
//! command, into one folder with a report.
//!
//! Each stage runs exactly as its own subcommand would (same parsing, same checks), so the
//! folder can be regenerated stage by stage by hand: `library`, `layout`, `propagate`.

use crate::io::design::Design;
use crate::{Error, Result};
use clap::Parser;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Arguments of `metalens reproduce`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A built-in design (mk1, mk2) or a design file (TOML) with a [lens] section.
    #[arg(default_value = "mk1")]
    pub design: String,
    /// Output folder (default out/<design name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bars and no summary.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Parser)]
struct LibraryCmd {
    #[command(flatten)]
    args: super::library::Args,
}
#[derive(Parser)]
struct LayoutCmd {
    #[command(flatten)]
    args: super::layout::Args,
}
#[derive(Parser)]
struct PropagateCmd {
    #[command(flatten)]
    args: super::propagate::Args,
}

fn parse<T: Parser>(argv: &[&str]) -> Result<T> {
    T::try_parse_from(argv)
        .map_err(|e| Error::numerical("reproduce", format!("internal argument error: {e}")))
}

/// The reference study's published numbers.
const STUDY: [(&str, f64, f64, f64); 2] = [("mk1", 0.9, 0.75, 0.53), ("mk2", 0.99, 0.42, 0.48)];

/// Run `metalens reproduce`.
pub fn run(a: Args) -> Result<()> {
    let (design, text) = match a.design.as_str() {
        "mk1" | "mk2" | "pitch-sweep" => Design::builtin(&a.design)?,
        path => {
            let p = Path::new(path);
            let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
            (Design::from_toml(&text, path)?, text)
        }
    };
    if design.lens.is_none() {
        return Err(Error::invalid(
            "design",
            format!("'{}'", a.design),
            "needs a [lens] section (the pitch-sweep study is not a single lens; run mk1 or mk2)",
        ));
    }
    let name = Path::new(&a.design)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "design".into());
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(&name));
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let design_path = out.join("design.toml");
    super::propagate::write_atomic(&design_path, text.as_bytes())?;
    let s = |p: &Path| p.display().to_string();
    let lib = out.join("library.h5");
    let lay = out.join("layout");
    let prop = out.join("focus");
    let q = if a.quiet { vec!["--quiet"] } else { vec![] };
    let t0 = std::time::Instant::now();
    let mut argv = vec!["library", &*s(&design_path).leak(), "-o", s(&lib).leak()];
    argv.extend(&q);
    super::library::run(parse::<LibraryCmd>(&argv)?.args)?;
    let t_lib = t0.elapsed().as_secs_f64();
    let mut argv = vec![
        "layout",
        s(&design_path).leak(),
        "--library",
        s(&lib).leak(),
        "-o",
        s(&lay).leak(),
    ];
    argv.extend(&q);
    super::layout::run(parse::<LayoutCmd>(&argv)?.args)?;
    let t_lay = t0.elapsed().as_secs_f64() - t_lib;
    let argv = vec![
        "propagate",
        s(&out.join("layout.h5")).leak(),
        "--out",
        s(&prop).leak(),
        "--quiet",
    ];
    // propagate prints its own summary unless --json; keep stdout for the report summary
    super::propagate::run(parse::<PropagateCmd>(&argv)?.args)?;
    let t_prop = t0.elapsed().as_secs_f64() - t_lib - t_lay;

    let read = |p: PathBuf| -> Result<Value> {
        let t = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        serde_json::from_str(&t).map_err(|e| Error::format(&p, e.to_string()))
    };
    let focus = read(prop.join("propagate.json"))?;
    let layout = read(out.join("layout.json"))?;
    let na = design.lens.as_ref().and_then(|l| l.na).unwrap_or(f64::NAN);
    let study = STUDY.iter().find(|s| (s.1 - na).abs() < 1e-9);
    let report = json!({
        "design": name, "design_text": text, "version": crate::VERSION, "conventions": crate::CONVENTIONS,
        "study": study.map(|s| json!({"lens": s.0, "na": s.1, "focusing_efficiency": s.2, "fwhm_lambda": s.3})),
        "focus": focus, "layout": layout,
        "wall_time_s": {"library": t_lib, "layout": t_lay, "propagate": t_prop},
    });
    let json_text = serde_json::to_string_pretty(&report)
        .map_err(|e| Error::numerical("reproduce", e.to_string()))?;
    super::propagate::write_atomic(&out.join("report.json"), json_text.as_bytes())?;
    let md = markdown(&name, &text, study, &focus, t_lib, t_lay, t_prop);
    super::propagate::write_atomic(&out.join("report.md"), md.as_bytes())?;
    if !a.quiet {
        println!("{md}");
        println!("wrote {}", out.display());
    }
    Ok(())
}

fn num(v: &Value, path: &[&str]) -> Option<f64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    cur.as_f64()
}

fn markdown(
    name: &str,
    design_text: &str,
    study: Option<&(&str, f64, f64, f64)>,
    f: &Value,
    t_lib: f64,
    t_lay: f64,
    t_prop: f64,
) -> String {
    let fmt = |v: Option<f64>, pct: bool| match v {
        Some(x) if pct => format!("{:.1} %", 100.0 * x),
        Some(x) => format!("{x:.3}"),
        None => "n/a".into(),
    };
    let ideal = f.get("ideal").cloned().unwrap_or(Value::Null);
    let mut s = format!("# metalens reproduction: {name}\n\n");
    s += "| quantity | reference study | this design | ideal lens, same NA and size |\n|---|---|---|---|\n";
    let (se, sf) = study
        .map(|s| (format!("{:.0} %", 100.0 * s.2), format!("{:.2} λ", s.3)))
        .unwrap_or(("n/a".into(), "n/a".into()));
    for key in [
        "incident_r1.5",
        "incident_r3",
        "transmitted_r1.5",
        "transmitted_r3",
    ] {
        s += &format!(
            "| focusing efficiency `{key}` | {se} | {} | {} |\n",
            fmt(num(f, &["efficiency", key]), true),
            fmt(num(&ideal, &["efficiency", key]), true)
        );
    }
    s += &format!(
        "| transmission efficiency | | {} | {} |\n",
        fmt(num(f, &["transmission_efficiency"]), true),
        fmt(num(&ideal, &["transmission_efficiency"]), true)
    );
    for (kind, label) in [
        ("transverse", "transverse Ex²+Ey²"),
        ("total", "total E² (with Ez)"),
        ("sz", "axial flux Sz"),
    ] {
        for ax in ["x", "y"] {
            s += &format!(
                "| FWHM {label} along {ax} (λ) | {sf} | {} | {} |\n",
                fmt(num(f, &["fwhm", kind, &format!("{ax}_lambda")]), false),
                fmt(num(&ideal, &["fwhm", kind, &format!("{ax}_lambda")]), false)
            );
        }
    }
    s += &format!(
        "| Strehl ratio | | {} | 1 |\n",
        fmt(num(f, &["strehl"]), false)
    );
    s += &format!(
        "| focal shift (µm) | | {} | {} |\n\n",
        fmt(num(f, &["focal_shift_um"]), false),
        fmt(num(&ideal, &["focal_shift_um"]), false)
    );
    s += "Definitions: `incident_rK` = power of Sz inside a circle of radius K·FWHM at the focal plane ÷ power incident on the aperture; `transmitted_rK` = the same ÷ power transmitted through the lens (see `focus/propagate.json`, block `definitions`). The study does not say which definition it uses.\n\n";
    s += &format!(
        "Wall time: library {t_lib:.1} s, layout {t_lay:.1} s, propagation {t_prop:.1} s.\n\n"
    );
    s += "## Assumptions (the design file, with sources in its comments)\n\n```toml\n";
    s += design_text;
    s += "\n```\n\nFiles: `library.h5`, `layout.h5`, `layout.gds`, `layout*.png`, `focus/` (figures and `propagate.json`), `report.json` (every number).\n";
    s
}
