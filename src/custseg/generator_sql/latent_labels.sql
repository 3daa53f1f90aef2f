select
    customer_id,
    behaviour
from cust
order by i
