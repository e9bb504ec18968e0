#!/usr/bin/env Rscript
# Data for testing hlmkit.lme beyond the High School and Beyond data (issue 12).
#
# Run once from the repository root (R with nlme and lme4):
#
#     Rscript data/make_lme_cases.R
#
# It writes data/lme_cases/<name>.csv: standard one-grouping-factor data sets of R's nlme, lme4 and
# datasets packages, exactly as those packages ship them, with factors written as their labels;
# versions of two of them with the response and the covariate rescaled by 1e3 and 1e-3; and
# simulated hard cases (random-effect SDs 10-100 times sigma, correlations near +1 and -1,
# clusters of size 1 and 2). The tests and tests/reference/R/part_lme_cases.R read these files,
# so Python and R fit the same numbers.

suppressPackageStartupMessages({
  library(nlme)
  library(lme4)
})

out_dir <- file.path("data", "lme_cases")
dir.create(out_dir, showWarnings = FALSE)

put <- function(d, name) {
  d <- as.data.frame(d)
  for (k in names(d)) if (is.factor(d[[k]])) d[[k]] <- as.character(d[[k]])
  rownames(d) <- NULL
  write.csv(d, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE)
  cat("wrote", name, nrow(d), "rows\n")
}

# ---- standard data sets ----
put(nlme::Orthodont, "Orthodont")
put(nlme::Oxboys, "Oxboys")
put(lme4::sleepstudy, "sleepstudy")
put(nlme::BodyWeight, "BodyWeight")
put(nlme::ergoStool, "ergoStool")
put(nlme::Rail, "Rail")
put(datasets::ChickWeight, "ChickWeight")
put(nlme::Ovary, "Ovary")
put(nlme::Dialyzer, "Dialyzer")
put(nlme::Machines, "Machines")
put(datasets::Orange, "Orange")

# ---- rescaled: response and covariate multiplied by 1e3 and by 1e-3 ----
for (k in c(3, -3)) {
  f <- 10^k
  tag <- if (k > 0) "1e3" else "1e-3"
  s <- lme4::sleepstudy
  s$Reaction <- s$Reaction * f
  s$Days <- s$Days * f
  put(s, paste0("sleepstudy_x", tag))
  o <- nlme::Oxboys
  o$height <- o$height * f
  o$age <- o$age * f
  put(o, paste0("Oxboys_x", tag))
}

# ---- simulated hard cases ----
set.seed(20240612)
sim_slopes <- function(J, nj, sd0, sd1, rho, sigma, x_of) {
  g <- rep(seq_len(J), each = nj)
  x <- x_of(J * nj, g)
  S <- matrix(c(sd0^2, rho * sd0 * sd1, rho * sd0 * sd1, sd1^2), 2)
  b <- matrix(rnorm(2 * J), J) %*% chol(S)
  y <- 5 + b[g, 1] + (1 + b[g, 2]) * x + rnorm(J * nj, 0, sigma)
  data.frame(g = sprintf("c%03d", g), x = x, y = y)
}
# random-effect SDs 100 and 10 times sigma (growth curves measured in small units)
put(sim_slopes(30, 6, 100, 10, 0.3, 1, function(n, g) rep(0:5, length.out = n)), "sim_large_sd")
# correlations of the random intercept and slope near +1 and -1
put(sim_slopes(40, 5, 2, 1, 0.98, 1, function(n, g) rnorm(n)), "sim_corr_pos")
put(sim_slopes(40, 5, 2, 1, -0.98, 1, function(n, g) rnorm(n)), "sim_corr_neg")
# clusters of size 1 and 2
J <- 150
nj <- sample(1:2, J, replace = TRUE)
g <- rep(seq_len(J), nj)
x <- rnorm(length(g))
y <- 2 + rnorm(J, 0, 1.5)[g] + 0.5 * x + rnorm(length(g))
put(data.frame(g = sprintf("c%03d", g), x = x, y = y), "sim_size_1_2")
cat("R", R.version.string, "| nlme", as.character(packageVersion("nlme")),
    "| lme4", as.character(packageVersion("lme4")), "\n")
