#!/usr/bin/env Rscript
# Freeze reference values from R for hlmkit's tests.
#
# Run by hand from the repository root, with R's nlme, lme4, jsonlite and numDeriv installed (Debian:
# apt-get install r-base-core r-cran-nlme r-cran-lme4 r-cran-jsonlite r-cran-performance
# r-cran-numderiv):
#
#     Rscript tests/reference/make_reference.R
#
# It reads the same committed CSV files as hlmkit (data/hsfull.csv, data/schools.csv), builds
# hs, hs1, hs2 and hsfull exactly as hlmkit.load_* do, defines cvar/dvar as spida2 does, and runs
# every part in tests/reference/R/ in turn; each part writes tests/reference/<part>.json.
# part_lme_cases.R reads data/lme_cases/*.csv (written by data/make_lme_cases.R) instead.
# One part: Rscript tests/reference/make_reference.R part_lme_cases
# CI and readers never need R: the JSON files are committed.

suppressPackageStartupMessages({
  library(nlme)
  library(lme4)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
root <- normalizePath(".")
ref_dir <- file.path(root, "tests", "reference")
stopifnot(file.exists(file.path(root, "data", "hsfull.csv")))

source(file.path(ref_dir, "R", "common.R"))

parts <- sort(list.files(file.path(ref_dir, "R"), pattern = "^part_.*[.]R$", full.names = TRUE))
if (length(args)) parts <- parts[basename(parts) %in% args | sub("[.]R$", "", basename(parts)) %in% args]
for (part in parts) {
  cat("==", basename(part), "\n")
  env <- new.env(parent = globalenv())
  sys.source(part, envir = env)
}
cat("R", R.version.string, "| nlme", as.character(packageVersion("nlme")),
    "| lme4", as.character(packageVersion("lme4")), "\n")
