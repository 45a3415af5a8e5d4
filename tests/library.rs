//! Phase library: sweep, checkpoint/resume, shards and merge, HDF5 round trip, export, plots,
//! all with a stand-in solver whose t is known exactly, so every check can fail.

use metalens::cell::LatticeKind;
use metalens::io::design::{Design, LibraryPolarization};
use metalens::io::library_file::{export_lumerical, merge, read_library, write_library};
use metalens::library::sweep::{
    sweep, CellPoint, CellResult, Shard, SweepMaterials, SweepOptions, SweepSettings, SweepSpec,
};
use metalens::library::{LibraryMeta, PhaseLibrary};
use metalens::material::Material;
use metalens::{Error, Result, C64};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("metalens-libtest-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn spec() -> SweepSpec {
    let settings = SweepSettings {
        wavelengths: vec![0.633, 0.685],
        heights: vec![0.6, 0.8],
        pitches: vec![0.2, 0.3],
        radii: (0..12).map(|i| 0.02 + 0.01 * i as f64).collect(),
        lattice: LatticeKind::Square,
        min_gap: 0.03,
        pillar: "srn".into(),
        substrate: "sio2".into(),
        exit: "air".into(),
        harmonics: 50,
        polarization: LibraryPolarization::X,
        harmonic_rule: None,
        incidence_theta_deg: vec![0.0],
        incidence_phi_deg: vec![0.0],
    };
    let materials = SweepMaterials {
        pillar: Material::srn(),
        substrate: Material::sio2(),
        exit: Material::air(),
    };
    SweepSpec {
        settings,
        materials,
    }
}

/// A stand-in solver with a closed-form answer that depends on every axis and differs
/// between polarisations, so index mix-ups show.
fn known(c: &CellPoint) -> CellResult {
    let tx = C64::from_polar(
        0.5 + c.radius,
        30.0 * c.radius * c.height / c.wavelength + c.pitch,
    );
    let ty = C64::from_polar(0.4 + c.radius, -20.0 * c.radius);
    let tr = [0.9 - c.radius, 0.8 - c.radius];
    CellResult {
        t: [tx, ty],
        transmittance: tr,
        reflectance: [1.0 - tr[0], 1.0 - tr[1]],
    }
}

fn known_solver(c: &CellPoint) -> Result<CellResult> {
    Ok(known(c))
}

fn assert_same(a: &PhaseLibrary, b: &PhaseLibrary) {
    assert_eq!(a.valid, b.valid);
    for (x, y) in a.t.iter().zip(b.t.iter()) {
        // bit-identical (NaN where invalid on both)
        assert!(x == y || (x.re.is_nan() && y.re.is_nan()), "{x} vs {y}");
    }
    for (x, y) in a.transmittance.iter().zip(b.transmittance.iter()) {
        assert!(x == y || (x.is_nan() && y.is_nan()));
    }
    for (x, y) in a.reflectance.iter().zip(b.reflectance.iter()) {
        assert!(x == y || (x.is_nan() && y.is_nan()));
    }
}

#[test]
fn sweep_fills_the_grid_and_skips_radii_that_do_not_fit() {
    let s = spec();
    let rep = sweep(&s, known_solver, &SweepOptions::default()).unwrap();
    let lib = &rep.library;
    let mut fit = 0;
    for i in 0..s.settings.cell_count() {
        let c = s.settings.point(i);
        let fits = 2.0 * c.radius + 0.03 <= c.pitch + 1e-12;
        assert_eq!(lib.valid[[c.iw, c.ih, c.ip, c.ir]], fits, "{c:?}");
        if fits {
            fit += 1;
            let k = known(&c);
            assert_eq!(lib.t[[c.iw, c.ih, c.ip, c.ir, 0]], k.t[0]);
            assert_eq!(lib.t[[c.iw, c.ih, c.ip, c.ir, 1]], k.t[1]);
            assert_eq!(
                lib.transmittance[[c.iw, c.ih, c.ip, c.ir, 1]],
                k.transmittance[1]
            );
        } else {
            assert!(lib.t[[c.iw, c.ih, c.ip, c.ir, 0]].re.is_nan());
        }
    }
    // pitch 0.2: r <= 0.085 fits (0.02..0.08: 7 radii), pitch 0.3: r <= 0.135 (all 12)
    assert_eq!(fit, 4 * (7 + 12));
    assert_eq!(rep.solved, fit);
    // skipped pairs are (pitch, radius) and reported once per pitch
    assert_eq!(rep.skipped.len(), 12 - 7);
    assert!(rep.skipped.iter().all(|&(p, r)| p == 0.2 && r > 0.085));
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let s = spec();
    let run = |n: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(|| sweep(&s, known_solver, &SweepOptions::default()).unwrap())
    };
    assert_same(&run(1).library, &run(2).library);
}

#[test]
fn failed_cells_are_reported_and_a_solver_that_never_works_is_an_error() {
    let s = spec();
    let rep = sweep(
        &s,
        |c: &CellPoint| {
            if c.ir == 3 {
                Err(Error::numerical("rcwa", "singular"))
            } else {
                Ok(known(c))
            }
        },
        &SweepOptions::default(),
    )
    .unwrap();
    assert_eq!(rep.failed.len(), 8); // 2 wavelengths x 2 heights x 2 pitches, radius 0.05 fits both
    assert!(!rep.library.valid[[0, 0, 0, 3,]]);
    let e = sweep(
        &s,
        |_: &CellPoint| -> Result<CellResult> { Err(Error::numerical("rcwa", "not implemented")) },
        &SweepOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("not implemented"));
    // non-finite results are failures, not data
    let rep = sweep(
        &s,
        |c: &CellPoint| {
            let mut k = known(c);
            if c.ir == 0 {
                k.t[1] = C64::new(f64::NAN, 0.0);
            }
            Ok(k)
        },
        &SweepOptions::default(),
    )
    .unwrap();
    assert_eq!(rep.failed.len(), 8);
}

#[test]
fn checkpoint_resumes_only_the_missing_cells() {
    let d = tmpdir("ckpt");
    let s = spec();
    let ck = d.join("lib.h5.ckpt");
    let opts = SweepOptions {
        checkpoint: Some(metalens::io::checkpoint::CheckpointFile::shared(&ck)),
        ..Default::default()
    };
    // first run: an "interruption" leaves radii with ir >= 5 unsolved
    let first = sweep(
        &s,
        |c: &CellPoint| {
            if c.ir >= 5 {
                Err(Error::numerical("x", "interrupted"))
            } else {
                Ok(known(c))
            }
        },
        &opts,
    )
    .unwrap();
    let done_first = first.solved;
    assert!(done_first > 0 && !first.failed.is_empty());
    // a crash in the middle of writing a line leaves a partial line: it must be ignored
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&ck)
        .unwrap()
        .write_all(b"{\"i\":3,\"t\":[0.1,")
        .unwrap();
    let calls = AtomicUsize::new(0);
    let second = sweep(
        &s,
        |c: &CellPoint| {
            calls.fetch_add(1, Ordering::Relaxed);
            known_solver(c)
        },
        &opts,
    )
    .unwrap();
    assert_eq!(second.resumed, done_first);
    assert_eq!(calls.load(Ordering::Relaxed), first.failed.len());
    let fresh = sweep(&s, known_solver, &SweepOptions::default()).unwrap();
    assert_same(&second.library, &fresh.library);
    // a checkpoint of other settings is refused, with exit code 2
    let mut other = s.clone();
    other.settings.harmonics = 51;
    let e = sweep(&other, known_solver, &opts).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("other settings"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

fn meta_for(
    s: &SweepSpec,
    rep: &metalens::library::SweepReport,
    shard: Option<Shard>,
) -> LibraryMeta {
    LibraryMeta {
        settings: s.settings.clone(),
        design_text: "name = \"t\"\n".into(),
        shard,
        computed: rep.computed.clone(),
        tool_version: metalens::VERSION.into(),
    }
}

#[test]
fn shards_merge_into_the_whole_sweep_and_foreign_shards_are_refused() {
    let d = tmpdir("shard");
    let s = spec();
    let mut files = Vec::new();
    for k in 1..=3 {
        let sh = Shard { index: k, count: 3 };
        let rep = sweep(
            &s,
            known_solver,
            &SweepOptions {
                shard: Some(sh),
                ..Default::default()
            },
        )
        .unwrap();
        let p = d.join(format!("s{k}.h5"));
        write_library(&p, &rep.library, &meta_for(&s, &rep, Some(sh))).unwrap();
        files.push(p);
    }
    // a shard alone is not a library
    let e = PhaseLibrary::load(&files[0]).unwrap_err();
    assert!(e.to_string().contains("merge"), "{e}");
    let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    let (merged, meta) = merge(&paths).unwrap();
    assert!(meta.shard.is_none());
    let fresh = sweep(&s, known_solver, &SweepOptions::default()).unwrap();
    assert_same(&merged, &fresh.library);

    // missing shard
    let e = merge(&paths[..2]).unwrap_err();
    assert!(e.to_string().contains("missing shard(s) 3/3"), "{e}");
    // duplicate shard
    let e = merge(&[paths[0], paths[1], paths[1]]).unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");
    // a shard of another sweep
    let mut other = s.clone();
    other.settings.min_gap = 0.04;
    let sh = Shard { index: 3, count: 3 };
    let rep = sweep(
        &other,
        known_solver,
        &SweepOptions {
            shard: Some(sh),
            ..Default::default()
        },
    )
    .unwrap();
    let foreign = d.join("foreign.h5");
    write_library(&foreign, &rep.library, &meta_for(&other, &rep, Some(sh))).unwrap();
    let e = merge(&[paths[0], paths[1], foreign.as_path()]).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("other settings"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn hdf5_round_trip_keeps_every_number_and_the_provenance() {
    let d = tmpdir("h5");
    let s = spec();
    let rep = sweep(&s, known_solver, &SweepOptions::default()).unwrap();
    let p = d.join("lib.h5");
    write_library(&p, &rep.library, &meta_for(&s, &rep, None)).unwrap();
    let (lib, meta) = read_library(&p).unwrap();
    assert_same(&lib, &rep.library);
    assert_eq!(meta.settings, s.settings);
    assert_eq!(meta.design_text, "name = \"t\"\n");
    assert_eq!(lib.lattice, LatticeKind::Square);
    assert_eq!(lib.harmonics, 50);
    assert_eq!(lib.exit_index, 1.0);
    let r = metalens::io::hdf5::H5Reader::open(&p).unwrap();
    assert_eq!(r.attr_string("conventions").unwrap(), metalens::CONVENTIONS);
    assert_eq!(
        r.attr_string("t_definition").unwrap(),
        metalens::T_DEFINITION
    );
    assert_eq!(r.attr_string("tool_version").unwrap(), metalens::VERSION);
    // PhaseLibrary::save / load (the contract other stages use)
    let q = d.join("saved.h5");
    rep.library.save(&q).unwrap();
    assert_same(&PhaseLibrary::load(&q).unwrap(), &rep.library);
    // lookups
    let col = lib.column(0.685, 0.8, 0.2, 1).unwrap();
    let (iw, ih, ip, ir) = (1, 1, 0, 4);
    let c = s.settings.point(((iw * 2 + ih) * 2 + ip) * 12 + ir);
    assert_eq!(col.t[4], known(&c).t[1]);
    assert_eq!(col.valid_only().radii.len(), 7);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn corrupt_and_foreign_files_are_one_line_format_errors() {
    let d = tmpdir("bad");
    let s = spec();
    let rep = sweep(&s, known_solver, &SweepOptions::default()).unwrap();
    let p = d.join("lib.h5");
    write_library(&p, &rep.library, &meta_for(&s, &rep, None)).unwrap();
    // truncated file
    let bytes = std::fs::read(&p).unwrap();
    let t = d.join("truncated.h5");
    std::fs::write(&t, &bytes[..bytes.len() / 2]).unwrap();
    // not HDF5
    let n = d.join("text.h5");
    std::fs::write(&n, "hello").unwrap();
    // HDF5, but not a library (a Lumerical export)
    let f = d.join("foreign.h5");
    export_lumerical(&f, &rep.library, 0, 0, 0, 0).unwrap();
    for bad in [&t, &n, &f] {
        let e = PhaseLibrary::load(bad).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
        assert!(!e.to_string().contains('\n'), "{e}");
    }
    assert!(PhaseLibrary::load(&f)
        .unwrap_err()
        .to_string()
        .contains("not a metalens phase library"));
    let e = PhaseLibrary::load(&d.join("missing.h5")).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn lumerical_export_has_version_phase_and_amplitude() {
    let d = tmpdir("lum");
    let s = spec();
    let rep = sweep(&s, known_solver, &SweepOptions::default()).unwrap();
    let p = d.join("lum.h5");
    let k = export_lumerical(&p, &rep.library, 1, 0, 0, 0).unwrap();
    assert_eq!(k, 7);
    let r = metalens::io::hdf5::H5Reader::open(&p).unwrap();
    assert_eq!(r.attr_string("version").unwrap(), "1.0");
    let (phase, _) = r.f64("phase", Some(&[7])).unwrap();
    let (amp, _) = r.f64("amplitude", Some(&[7])).unwrap();
    for i in 0..7 {
        let c = s.settings.point((2 * 2 * 12) + i); // iw 1, ih 0, ip 0, ir i
        let t = known(&c).t[0];
        assert!((phase[i] - t.arg()).abs() < 1e-15 && (amp[i] - t.norm()).abs() < 1e-15);
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn plots_are_written_as_png_and_svg() {
    let d = tmpdir("plot");
    let mut s = spec();
    s.settings.wavelengths = vec![0.685];
    let rep = sweep(&s, known_solver, &SweepOptions::default()).unwrap();
    let files =
        metalens::plot::library::plot_library(&rep.library, &d.join("lib"), &Default::default())
            .unwrap();
    // 2 heights x (phase, maps) + coverage, each PNG + SVG
    assert_eq!(files.len(), 10);
    for f in &files {
        let b = std::fs::read(f).unwrap();
        assert!(b.len() > 1000, "{}", f.display());
        if f.extension().unwrap() == "svg" {
            assert!(
                String::from_utf8_lossy(&b).contains("radius")
                    || f.to_string_lossy().contains("coverage")
            );
        } else {
            assert_eq!(&b[1..4], b"PNG");
        }
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn design_files_describe_the_sweep() {
    let (d, _) = Design::builtin("pitch-sweep").unwrap();
    let s = SweepSpec::from_design(&d).unwrap();
    assert_eq!(s.settings.pitches.len(), 6);
    assert_eq!(s.settings.radii.len(), 100);
    let (m1, _) = Design::builtin("mk1").unwrap();
    let (m2, _) = Design::builtin("mk2").unwrap();
    assert_eq!(m1.lens.as_ref().unwrap().na, Some(0.9));
    assert_eq!(m2.lens.as_ref().unwrap().na, Some(0.99));
    // everything but the NA and the name is shared
    let mut m2b = m2.clone();
    m2b.lens = m1.lens.clone();
    m2b.name = m1.name.clone();
    m2b.description = m1.description.clone();
    m2b.reproduces = m1.reproduces.clone();
    assert_eq!(m1, m2b);
}
