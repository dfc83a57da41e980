// The Boost.Math error policy of the statistics units (internal to results/stats/): domain
// errors, overflow and failed evaluations come back as NaN or ±inf instead of exceptions, so
// nothing here throws; every public function validates its inputs first and checks that the
// result is finite anyway.
#pragma once

#include <boost/math/policies/policy.hpp>

namespace stodepth::results::stats {

using NoThrow = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>>;

}  // namespace stodepth::results::stats
