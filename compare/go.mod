module redis-by-hand/compare

go 1.26.0

require redis-by-hand v0.0.0

replace redis-by-hand => ../
