-- Small lookup tables; each parameter is a `(values ...) as t(columns)` relation built in Python.
create table behaviours as select * from :behaviours; -- noqa: AM04
create table campaigns as select * from :campaigns; -- noqa: AM04
create table response_rates as select * from :response_rates; -- noqa: AM04
