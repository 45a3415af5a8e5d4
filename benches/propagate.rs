//! Propagation benchmarks (issue 5): vectorial angular spectrum of an n² grid (aperture n/2,
//! zero-padded 2×) to one plane — 2 forward FFTs (Ex, Ey), transfer function, Ez, 3 inverse
//! FFTs — and an x–z section of 200 planes.
//!
//! `cargo bench --bench propagate` runs criterion (sample size 10) on 4096² one plane and on a
//! 200-plane x–z section of 1024². For wall time and peak memory of single runs under
//! `/usr/bin/time -v`, set PROP_ONESHOT to `plane:N` or `xz:N`:
//! `PROP_ONESHOT=plane:8192 /usr/bin/time -v target/release/deps/propagate-*`.

use criterion::Criterion;
use metalens::nearfield::{ApertureField, Polarization};
use metalens::propagate::{AngularSpectrumPlan, VectorSpectrum};
use metalens::C64;
use std::time::{Duration, Instant};

const LAMBDA: f64 = 0.633;

/// An NA 0.9 ideal lens of m samples at λ/4 with both transverse components (rcp incidence).
fn aperture(m: usize) -> ApertureField {
    let dx = LAMBDA / 4.0;
    let r = (m / 2 - 1) as f64 * dx;
    let f = r * (1.0f64 - 0.81).sqrt() / 0.9;
    let nf = metalens::nearfield::NearField::ideal(
        LAMBDA,
        f,
        1.0,
        1.0,
        dx,
        r,
        metalens::nearfield::Outside::Opaque,
        metalens::nearfield::ApertureModel::Flux,
    )
    .unwrap();
    let mut a = nf.field(Polarization::Rcp);
    // NearField::ideal sizes its grid from the radius; trim/pad to exactly m is not needed
    // because m = 2 (r/dx + 1)
    a.m = nf.m;
    a
}

fn focal(m: usize) -> f64 {
    let r = (m / 2 - 1) as f64 * LAMBDA / 4.0;
    r * (1.0f64 - 0.81).sqrt() / 0.9
}

fn one_plane(plan: &AngularSpectrumPlan, a: &ApertureField, z: f64) -> f64 {
    let sp = plan.spectrum(a).unwrap();
    let f = plan.field_at_components(&sp, z, plan.n / 2, false).unwrap();
    // |Ex| at the focus (centre of the crop), to compare with the numpy reference
    let c = (plan.n / 4) * (plan.n / 2) + plan.n / 4;
    f.e[0][c].norm()
}

fn xz(plan: &AngularSpectrumPlan, sp: &VectorSpectrum, z: f64) -> f64 {
    let zs: Vec<f64> = (0..200).map(|i| z * (0.5 + i as f64 / 199.0)).collect();
    let xs: Vec<f64> = (0..201).map(|i| -5.0 + 0.05 * i as f64).collect();
    let s = plan.sections(sp, &zs, &xs, &xs, &|_| {}).unwrap();
    s.on_axis[100]
}

fn oneshot(spec: &str) {
    let (kind, n) = spec.split_once(':').expect("PROP_ONESHOT=plane:N or xz:N");
    let n: usize = n.parse().unwrap();
    let a = aperture(n / 2);
    let plan = AngularSpectrumPlan::new(n, LAMBDA / 4.0, LAMBDA, 1.0).unwrap();
    let t = Instant::now();
    let v = match kind {
        "plane" => one_plane(&plan, &a, focal(n / 2)),
        "plane-lowmem" => {
            // as "plane", with the aperture field freed once its spectrum is taken
            let sp = plan.spectrum(&a).unwrap();
            drop(a);
            let f = plan
                .field_at_components(&sp, focal(n / 2), n / 2, false)
                .unwrap();
            f.e[0][(n / 4) * (n / 2) + n / 4].norm()
        }
        "fft" => {
            let mut buf = vec![C64::new(1.0, 0.0); n * n];
            let f = metalens::propagate::Fft2::new(n);
            let t1 = Instant::now();
            f.forward(&mut buf);
            eprintln!("one 2-D FFT: {:.3} s", t1.elapsed().as_secs_f64());
            let t1 = Instant::now();
            let sp = plan.spectrum(&a).unwrap();
            eprintln!(
                "spectrum (2 components): {:.3} s",
                t1.elapsed().as_secs_f64()
            );
            let t1 = Instant::now();
            let f = plan
                .field_at_components(&sp, focal(n / 2), n / 2, false)
                .unwrap();
            eprintln!("field_at E: {:.3} s", t1.elapsed().as_secs_f64());
            buf[0].re + f.e[0][0].re
        }
        "xz" => {
            let sp = plan.spectrum(&a).unwrap();
            drop(a);
            let t1 = Instant::now();
            let v = xz(&plan, &sp, focal(n / 2));
            eprintln!("sections only: {:.3} s", t1.elapsed().as_secs_f64());
            v
        }
        _ => panic!("unknown case {kind}"),
    };
    println!(
        "{kind} {n}: {:.3} s (check {v:.3e}), threads {}",
        t.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
}

fn main() {
    if let Ok(spec) = std::env::var("PROP_ONESHOT") {
        oneshot(&spec);
        return;
    }
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let n = 4096;
    let a = aperture(n / 2);
    let plan = AngularSpectrumPlan::new(n, LAMBDA / 4.0, LAMBDA, 1.0).unwrap();
    c.bench_function("vectorial_plane_4096", |b| {
        b.iter(|| one_plane(&plan, &a, focal(n / 2)))
    });
    // sections at 1024² keep the criterion run short; 4096² is timed with PROP_ONESHOT=xz:4096
    let ns = 1024;
    let plan_s = AngularSpectrumPlan::new(ns, LAMBDA / 4.0, LAMBDA, 1.0).unwrap();
    let sp = plan_s.spectrum(&aperture(ns / 2)).unwrap();
    let mut g = c.benchmark_group("sections");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("xz_yz_axis_200_planes_1024", |b| {
        b.iter(|| xz(&plan_s, &sp, focal(ns / 2)))
    });
    g.finish();
    c.final_summary();
}
