# tests/bench/scale.gp - req/s against registries, quiet above and with background writes below.  run.sh sets
# data_quiet and data_on (the two data files) and out, and loads report.py's scale-style.gp: nseries, and per
# series a colour (the operation) and a dash type (1 imagereg host, 2 cluster, 3 ref in-memory, 4 ref libfcgi+libpq).
set terminal pngcairo size 1100,1100 font "sans,10"
set output out
set datafile separator "\t"
set datafile missing "NaN"
set xlabel "registries"
set ylabel "requests per second"
# Both axes logarithmic: registries grow tenfold a step, and GET list's req/s falls with the bytes it sends.
set logscale x 10
set logscale y 10
set grid xtics ytics mytics
set key outside right center
set multiplot layout 2,1
do for [panel in "quiet on"] {
	data = panel eq "quiet" ? data_quiet : data_on
	set title sprintf("imagereg and references at scale: %s", panel eq "quiet" ? "quiet" : "with background writes (about 10 a second)")
	plot for [c=2:nseries+1] data using 1:c with linespoints linewidth 2 pointsize 1.2 \
		linetype int(word(colours, c-1)) dashtype int(word(dashes, c-1)) pointtype int(word(dashes, c-1)) + 4 \
		title columnheader(c)
}
unset multiplot
