//! `metalens layout` end to end: a synthetic library saved as HDF5, a design file, the binary.

mod layout_common;
use layout_common::*;

use metalens::cell::LatticeKind;
use metalens::io::gds::GdsLibrary;
use metalens::io::layout_file::LayoutFile;
use std::process::Command;

#[test]
fn layout_command_writes_h5_gds_report_and_figures() {
    let dir = std::env::temp_dir().join(format!("metalens-layout-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lib_path = dir.join("lib.h5");
    // radii on a 1/1024 µm grid: short decimals that survive the library's JSON settings
    // record exactly (serde_json without float_roundtrip may move a 17-digit float by 1 ulp)
    let cells: Vec<(f64, metalens::C64)> = (0..48)
        .map(|k| {
            (
                (51 + 2 * k) as f64 / 1024.0,
                metalens::C64::from_polar(1.0, 2.0 * std::f64::consts::PI * k as f64 / 48.0),
            )
        })
        .collect();
    library(LatticeKind::Hex, &cells).save(&lib_path).unwrap();
    let design = dir.join("design.toml");
    std::fs::write(
        &design,
        format!(
            "[source]\nwavelength = {WAVELENGTH}\n[cell]\nlattice = \"hex\"\nheight = {HEIGHT}\nmin_gap = 0.05\n\
             [library]\npitches = [{PITCH}]\nradius = {{ start = 0.05, stop = 0.14, count = 10 }}\n\
             [lens]\nna = 0.8\ndiameter = 12.0\npitch = {PITCH}\n"
        ),
    )
    .unwrap();
    let out = dir.join("lens");
    let run = Command::new(env!("CARGO_BIN_EXE_metalens"))
        .args([
            "layout",
            design.to_str().unwrap(),
            "--library",
            lib_path.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--outline-layer",
            "2",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("pillars:") && stdout.contains("minimum gap"),
        "{stdout}"
    );
    let h5 = LayoutFile::load(&dir.join("lens.h5")).unwrap();
    let gds = GdsLibrary::read(&dir.join("lens.gds")).unwrap();
    let top = gds.structure("METALENS").unwrap();
    let placed: usize = top.refs.iter().map(|r| r.positions().count()).sum();
    assert_eq!(placed, h5.radii.len());
    assert!((h5.lens.numerical_aperture() - 0.8).abs() < 1e-12);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("lens.json")).unwrap()).unwrap();
    assert_eq!(
        json["report"]["pillars"].as_u64().unwrap() as usize,
        h5.radii.len()
    );
    for f in [
        "lens_pillars.png",
        "lens_pillars_zoom.png",
        "lens_phase.png",
        "lens_phase_error.png",
    ] {
        assert!(std::fs::metadata(dir.join(f)).unwrap().len() > 1000, "{f}");
    }
    // no temporary files left behind
    assert!(std::fs::read_dir(&dir).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains(".tmp")));
    std::fs::remove_dir_all(&dir).ok();
}
