# Reference values for the notes pp. 76-174 (the book's chapters 6-10): the one-way model on the
# notes' informative school id `sid`, its BLUEs and BLUPs, the weighted means of the one-way
# ANOVA (codings of the school effect), and per-school least squares for mathach ~ ses.
# Writes tests/reference/notes2.json. Run: Rscript tests/reference/make_reference.R part_notes2

d <- hs
# the notes' informative id (pp. 24-31): first letter of Sector + school + first letter of Sex.cat,
# ordered by mean ses within sector (Public first)
d$Sex.comp <- ave(as.numeric(d$Sex == "Female"), d$school)
d$Sex.cat <- factor(ifelse(d$Sex.comp == 1, "Girls", ifelse(d$Sex.comp == 0, "Boys", "Coed")))
d$sid <- factor(paste(substr(d$Sector, 1, 1), d$school, substr(d$Sex.cat, 1, 1), sep = ""))
d$sid <- reorder(d$sid, d$ses + 1000 * (d$Sector == "Catholic"))

fit <- lme(mathach ~ 1, d, random = ~ 1 | sid)
rec <- describe_lme(fit, "hs", "mathach ~ 1", "~ 1 | sid", intervals = TRUE, ranef = TRUE)
rec$coef <- mat(coef(fit))
rec$levels <- levels(d$sid)
rec$resid_quantiles <- as.list(quantile(resid(fit, type = "pearson")))
tt <- summary(fit)$tTable
rec$wald_F <- unname(tt[1, "t-value"]^2)
rec$tTable <- mat(tt)

# one row per school, in sid order (the notes' hs1.sid): n, OLS mean, BLUP
n <- tapply(d$mathach, d$sid, length)
ybar <- tapply(d$mathach, d$sid, mean)
size <- tapply(d$Size, d$sid, function(v) v[1])
school <- tapply(d$school, d$sid, function(v) v[1])
sexcomp <- tapply(d$Sex.comp, d$sid, function(v) v[1])
sesm <- tapply(d$ses, d$sid, mean)
sid_table <- list(
  sid = names(n), school = unname(as.vector(school)), n = unname(as.vector(n)),
  Size = unname(as.vector(size)), Sex.comp = unname(as.vector(sexcomp)),
  ses.sch = unname(as.vector(sesm)), mathach.ols = unname(as.vector(ybar)),
  blup = unname(coef(fit)[names(n), 1])
)

# weighted means of the school means, and OLS with codings that make the intercept estimate them
J <- length(n)
g00 <- as.numeric(getVarCov(fit))
s2 <- fit$sigma^2
wmean <- function(w) sum(w * ybar) / sum(w)
cvar_of <- function(w) { w <- w / sum(w); sum(w^2 * s2 / n) }
uvar_of <- function(w) { w <- w / sum(w); sum(w^2 * (g00 + s2 / n)) }
weights <- list(schools = rep(1, J), students = as.vector(n), size = as.vector(size),
                mixed = 1 / (g00 + s2 / as.vector(n)))
wm <- lapply(weights, function(w) list(estimate = wmean(w), cond_var = cvar_of(w), uncond_var = uvar_of(w)))
coded_intercept <- function(w) {
  # coding matrix whose columns have zero weighted sums: w_J on the diagonal, -w_k in the last row
  C <- rbind(diag(w[J], J - 1), -w[-J])
  X <- C[as.integer(d$sid), ]
  unname(coef(lm(d$mathach ~ X))[1])
}
coded <- list(
  contr_sum = unname(coef(lm(mathach ~ sid, d, contrasts = list(sid = "contr.sum")))[1]),
  schools = coded_intercept(rep(1, J)),
  students = coded_intercept(as.vector(n)),
  size = coded_intercept(as.vector(size))
)

# per-school least squares of mathach on ses (the BLUEs), in school order
ls <- lmList(mathach ~ ses | school, hs)
blue <- mat(coef(ls))

# the intercepts-and-slopes-as-outcomes model: per-school lines (intercept, slope) = fixed + random
rs <- lme(mathach ~ ses * Sector, hs, random = ~ 1 + ses | school)
cf <- coef(rs)
pub <- as.numeric(tapply(hs$Sector == "Public", hs$school, function(v) v[1]))
lines <- cbind(intercept = cf[, "(Intercept)"] + pub * cf[, "SectorPublic"],
               slope = cf[, "ses"] + pub * cf[, "ses:SectorPublic"])
rownames(lines) <- rownames(cf)

write_ref(list(
  oneway_sid = rec,
  sid_table = sid_table,
  mean_overall = mean(d$mathach),
  mean_of_means = mean(ybar),
  weighted_means = wm,
  coded_intercepts = coded,
  blue_ses = blue,
  slopes_outcomes_lines = mat(lines)
), "notes2")
