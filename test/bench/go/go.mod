module fsanbench

go 1.19
