# tests/bench/throughput.gp - req/s against connections, one line per row; run.sh sets data, out, ncols and
# irlast (the last imagereg column: imagereg rows are solid, references dashed).
set terminal pngcairo size 1100,700 font "sans,10"
set output out
set datafile separator "\t"
set datafile missing "NaN"
set title "imagereg and references: throughput through nginx"
set xlabel "connections"
set ylabel "requests per second"
# Both axes logarithmic: connections double and quadruple, and the rows span two orders of magnitude.
set logscale x 2
set logscale y 10
set grid xtics ytics mytics
set key outside right center
plot for [c=2:irlast] data using 1:c with linespoints linewidth 2 pointsize 1.2 title columnheader(c), \
     for [c=irlast+1:ncols] data using 1:c with linespoints linewidth 2 pointsize 1.2 dashtype 2 title columnheader(c)
