# Chapter 2 (hierarchical data): the tables, summary variables and school-level files of the notes
# (pp. 9-34), computed with base R on hs, and R's ppoints for xqplot.
# Writes tests/reference/ch02.json. spida2 is not needed: its capply, up(all = TRUE) and tab are
# written out here with ave, tapply and table, which is what they compute on these data.

by_school <- function(v) as.list(setNames(as.vector(v), names(v)))

# table(hs$school), tab(~ Sector + school), tab(~ Sex + school)
n_school <- table(hs$school)
sector_school <- table(hs$Sector, hs$school)
sex_school <- table(hs$Sex, hs$school)
sex_sector <- table(hs$Sex, hs$Sector)

# capply(Sex == "Female", school, mean) and the Girls / Boys / Coed labels
hs$Sex.comp <- ave(as.numeric(hs$Sex == "Female"), hs$school, FUN = mean)
hs$Sex.cat <- factor(ifelse(hs$Sex.comp == 1, "Girls", ifelse(hs$Sex.comp == 0, "Boys", "Coed")))
sex_comp <- tapply(hs$Sex.comp, hs$school, function(v) v[1])
sex_cat <- tapply(as.character(hs$Sex.cat), hs$school, function(v) v[1])

# the informative id, ordered within sector by mean ses
hs$sid <- factor(paste(substr(hs$Sector, 1, 1), hs$school, substr(hs$Sex.cat, 1, 1), sep = ""))
hs$sid <- reorder(hs$sid, hs$ses + 1000 * (hs$Sector == "Catholic"))

# up(hs, ~ school, all = TRUE): means of the numeric columns, modes of the factors
# (the mode is the first level with the largest count: which.max on table())
mode_first <- function(f) levels(f)[which.max(table(f))]
up_all <- list(
  mathach = by_school(tapply(hs$mathach, hs$school, mean)),
  ses = by_school(tapply(hs$ses, hs$school, mean)),
  X = by_school(tapply(hs$X, hs$school, mean)),
  female = by_school(tapply(hs$female, hs$school, mean)),
  Sex = by_school(tapply(hs$Sex, hs$school, mode_first)),
  Minority = by_school(tapply(hs$Minority, hs$school, mode_first))
)

write_ref(list(
  n_school = by_school(n_school),
  sector_school = mat(unclass(sector_school)),
  sex_school = mat(unclass(sex_school)),
  sex_sector = mat(unclass(sex_sector)),
  sex_comp = by_school(sex_comp),
  sex_cat = by_school(sex_cat),
  sid_levels = levels(hs$sid),
  sid_school = by_school(tapply(as.character(hs$sid), hs$school, function(v) v[1])),
  up_all = up_all,
  ppoints = list(n5 = ppoints(5), n10 = ppoints(10), n11 = ppoints(11), n12 = ppoints(12)),
  qnorm_ppoints12 = qnorm(ppoints(12))
), "ch02")
